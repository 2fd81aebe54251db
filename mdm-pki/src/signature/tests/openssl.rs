//! Interoperability: signatures made by the `openssl cms` CLI, a signer nobody here wrote, with
//! keys and certificates from `fixture`.

use std::path::Path;
use std::process::Command;

use super::BODY;
use crate::fixture::*;
use crate::{ChainCert, SignatureError};

/// `openssl cms -sign` (detached, DER output) over `body` by `cert` and `key`, with `extra`
/// arguments.
fn openssl_sign(body: &[u8], cert: &ChainCert, key: &Key, extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("body"), body).expect("write body");
    std::fs::write(path("cert.pem"), pem(cert.der())).expect("write cert");
    std::fs::write(path("key.der"), key.pkcs8_der()).expect("write key");
    let output = Command::new("openssl")
        .args([
            "cms", "-sign", "-binary", "-outform", "DER", "-keyform", "DER",
        ])
        .arg("-in")
        .arg(path("body"))
        .arg("-signer")
        .arg(path("cert.pem"))
        .arg("-inkey")
        .arg(path("key.der"))
        .arg("-out")
        .arg(path("sig.der"))
        .args(extra)
        .output()
        .expect("the openssl CLI is needed for the interoperability tests");
    assert!(
        output.status.success(),
        "openssl cms -sign {extra:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    read(&path("sig.der"))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read signature")
}

#[test]
fn openssl_rsa_signatures_verify_with_and_without_attributes() {
    let pki = Pki::rsa();
    let verifier = pki.verifier();
    for md in ["sha1", "sha256", "sha512"] {
        for noattr in [false, true] {
            let mut args = vec!["-md", md];
            if noattr {
                args.push("-noattr");
            }
            let der = openssl_sign(BODY, &pki.device, pki.device_key, &args);
            let case = format!("{args:?}");
            let signer = verifier
                .verify(&header(&der), BODY, NOW)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(&*signer.cert_der, pki.device.der(), "{case}");
            let tampered = verifier.verify(&header(&der), b"<plist/>", NOW);
            let expected = if noattr {
                SignatureError::BadSignature
            } else {
                SignatureError::MessageDigestMismatch
            };
            assert_eq!(tampered, Err(expected), "{case}");
            // And re-encoded the way macOS sends it.
            let ber = to_indefinite_ber(&der, 64);
            verifier
                .verify(&header(&ber), BODY, NOW)
                .unwrap_or_else(|e| panic!("{case} as BER: {e}"));
        }
    }
}

#[test]
fn openssl_streamed_ber_signature_verifies_once_detached() {
    let pki = Pki::rsa();
    // `-stream` makes openssl write BER with indefinite lengths throughout, as macOS does; it
    // then embeds the content, so it is refused as it is...
    let ber = openssl_sign(BODY, &pki.device, pki.device_key, &["-stream", "-noattr"]);
    assert!(ber.starts_with(&[0x30, 0x80]), "indefinite lengths");
    let verifier = pki.verifier();
    let attached = verifier.verify(&header(&ber), BODY, NOW);
    assert_eq!(attached, Err(SignatureError::NotDetached));
    // ...and verifies once the eContent element is cut out. Every container around it has an
    // indefinite length, so no other byte of openssl's encoding changes.
    let id_data_then_content = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 1, 7, 1, 0xa0, 0x80,
    ];
    let at = ber
        .windows(id_data_then_content.len())
        .position(|w| w == id_data_then_content)
        .expect("encapsulated content")
        + 11;
    let detached = [&ber[..at], &ber[at + ber_element_len(&ber[at..])..]].concat();
    let signer = verifier.verify(&header(&detached), BODY, NOW);
    assert_eq!(signer.expect("verifies").common_name, "UDID-RSA-0001");
}

/// The length of the BER element at the start of `bytes`, indefinite lengths included.
fn ber_element_len(bytes: &[u8]) -> usize {
    match bytes[1] {
        0x80 => {
            let mut pos = 2;
            while bytes[pos..pos + 2] != [0, 0] {
                pos += ber_element_len(&bytes[pos..]);
            }
            pos + 2
        }
        n if n < 0x80 => 2 + usize::from(n),
        n => {
            let count = usize::from(n & 0x7f);
            let len = bytes[2..2 + count]
                .iter()
                .fold(0, |acc, &b| (acc << 8) | usize::from(b));
            2 + count + len
        }
    }
}

#[test]
fn openssl_ecdsa_signatures_verify() {
    let pki = Pki::p256();
    for md in ["sha1", "sha256", "sha512"] {
        for noattr in [false, true] {
            let mut args = vec!["-md", md];
            if noattr {
                args.push("-noattr");
            }
            let der = openssl_sign(BODY, &pki.device, pki.device_key, &args);
            pki.verifier()
                .verify(&header(&der), BODY, NOW)
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        }
    }
}
