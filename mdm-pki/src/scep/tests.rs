//! SCEP round trips with keys made at test time, for each envelope cipher and digest, and the
//! quirks and refusals the server must handle.

use super::client::{self, RequestOptions};
use super::*;
use crate::pki;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

struct Ca {
    cert: X509,
    key: PKey<Private>,
}

fn ca() -> Ca {
    let key = pki::rsa_key(2048).expect("CA key");
    let cert = pki::self_signed_ca(&key, &pki::name("Test SCEP CA", None).expect("name"), 30)
        .expect("CA cert");
    Ca { cert, key }
}

struct Device {
    key: PKey<Private>,
    signer: X509,
}

fn device(cn: &str) -> Device {
    let key = pki::rsa_key(2048).expect("device key");
    let signer =
        pki::self_signed_signer(&key, &pki::name(cn, None).expect("name")).expect("signer");
    Device { key, signer }
}

fn csr(device: &Device, cn: &str, challenge: Option<&str>, version: u64) -> Vec<u8> {
    csr::build(
        &device.key,
        &pki::name(cn, Some("Example")).expect("name"),
        challenge,
        version,
        Digest::Sha256,
    )
    .expect("CSR")
}

/// What a server does with a request: verify, decrypt, read the CSR, issue, reply.
fn serve(ca: &Ca, message: &[u8], expected_challenge: &str) -> Vec<u8> {
    let request = parse_pki_message(message).expect("parses");
    let signer = Signer {
        cert: &ca.cert,
        key: &ca.key,
    };
    let reply_to = request.reply_to();
    let refuse = |e: ScepError| reply::failure(&reply_to, signer, e.fail_info(), "refused");
    if let Err(e) = request.verify_signature() {
        return refuse(e).expect("failure reply");
    }
    let (content, cipher) = match request.decrypt(&ca.cert, &ca.key) {
        Ok(done) => done,
        Err(e) => return refuse(e).expect("failure reply"),
    };
    let csr = Csr::parse(&content).expect("CSR parses");
    csr.verify_signature().expect("CSR signature");
    let challenge = csr.challenge.clone().or(request.signed_challenge.clone());
    if challenge.as_deref() != Some(expected_challenge) {
        return reply::failure(&reply_to, signer, FailInfo::BadRequest, "bad challenge")
            .expect("failure reply");
    }
    let key = csr.public_key().expect("key");
    let now = 1_700_000_000;
    let issued = pki::issue_identity(
        &ca.cert,
        &ca.key,
        &key,
        pki::IdentityTemplate {
            subject: csr.subject(),
            not_before: now,
            not_after: now + 86_400,
        },
    )
    .expect("issue");
    reply::success(&reply_to, signer, &issued, &[], &request.signer, cipher).expect("reply")
}

fn enroll(ca: &Ca, options: RequestOptions, csr_challenge: Option<&str>) -> client::CertRep {
    let device = device("device-1");
    let csr = csr(&device, "device-1", csr_challenge, 0);
    let signer = Signer {
        cert: &device.signer,
        key: &device.key,
    };
    let request = client::build_request(&csr, signer, &ca.cert, &options).expect("request");
    let reply = serve(ca, &request.message, "s3cret");
    client::read_cert_rep(&reply, &ca.cert, signer, &request).expect("CertRep")
}

#[test]
fn round_trips_with_every_cipher_and_digest() {
    load_legacy_provider().expect("the legacy provider loads on this machine");
    assert!(single_des_available(), "single DES-CBC decrypts");
    let ca = ca();
    for cipher in ContentCipher::ALL {
        for digest in [Digest::Sha1, Digest::Sha256, Digest::Sha512] {
            let options = RequestOptions {
                cipher,
                digest,
                ..RequestOptions::default()
            };
            let rep = enroll(&ca, options, Some("s3cret"));
            assert_eq!(rep.status, PkiStatus::Success, "{cipher:?} {digest:?}");
            let cert = &rep.certificates[0];
            assert_eq!(
                pki::common_name(cert.subject_name()).as_deref(),
                Some("device-1")
            );
            assert!(cert.verify(&ca.key).expect("verify"), "issued by the CA");
        }
    }
}

#[test]
fn the_challenge_may_be_only_in_the_signed_attributes() {
    // Apple's mdmclient: SHA-512, 3DES, challengePassword among the signed attributes.
    let options = RequestOptions {
        cipher: ContentCipher::DesEde3Cbc,
        digest: Digest::Sha512,
        signed_challenge: Some("s3cret".into()),
        ..RequestOptions::default()
    };
    let rep = enroll(&ca(), options, None);
    assert_eq!(rep.status, PkiStatus::Success);
}

#[test]
fn a_wrong_challenge_is_a_failure_with_bad_request() {
    let rep = enroll(&ca(), RequestOptions::default(), Some("guess"));
    assert_eq!(rep.status, PkiStatus::Failure);
    assert_eq!(rep.fail_info, Some(FailInfo::BadRequest));
    assert!(rep.certificates.is_empty());
}

#[test]
fn a_csr_with_version_2_is_read() {
    // Regression: an older real device sends version 2; RFC 2986 says 0.
    let device = device("d");
    for version in [1, 2] {
        let der = csr(&device, "UDID-1", Some("pw"), version);
        let parsed = Csr::parse(&der).expect("lenient");
        assert_eq!(parsed.version, version);
        assert_eq!(parsed.challenge.as_deref(), Some("pw"));
        parsed.verify_signature().expect("signature holds");
    }
}

#[test]
fn a_tampered_signature_is_reported_as_bad_message_check() {
    let ca = ca();
    let device = device("d");
    let signer = Signer {
        cert: &device.signer,
        key: &device.key,
    };
    let request = client::build_request(
        &csr(&device, "d", Some("s3cret"), 0),
        signer,
        &ca.cert,
        &RequestOptions::default(),
    )
    .expect("request");
    // The RSA signature is the last OCTET STRING before the end of the SignerInfo: flip a bit
    // near the end of the message.
    let mut message = request.message.clone();
    let at = message.len() - 10;
    message[at] ^= 0x01;
    let parsed = parse_pki_message(&message).expect("still well-formed");
    let error = parsed.verify_signature().expect_err("signature broken");
    assert_eq!(error.fail_info(), FailInfo::BadMessageCheck);
    let reply = serve(&ca, &message, "s3cret");
    let rep = client::read_cert_rep(&reply, &ca.cert, signer, &request).expect("CertRep");
    assert_eq!(rep.status, PkiStatus::Failure);
    assert_eq!(rep.fail_info, Some(FailInfo::BadMessageCheck));
}

#[test]
fn an_envelope_for_another_ca_does_not_decrypt() {
    let (ca, other) = (ca(), ca());
    let device = device("d");
    let signer = Signer {
        cert: &device.signer,
        key: &device.key,
    };
    let request = client::build_request(
        &csr(&device, "d", Some("s3cret"), 0),
        signer,
        &other.cert,
        &RequestOptions::default(),
    )
    .expect("request");
    let parsed = parse_pki_message(&request.message).expect("parses");
    let error = parsed.decrypt(&ca.cert, &ca.key).expect_err("not ours");
    assert_eq!(error.fail_info(), FailInfo::BadMessageCheck);
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    for garbage in [
        &b""[..],
        b"garbage",
        &[0x30, 0x03, 0x06, 0x01, 0x00],
        &[0x30, 0x80, 0x00, 0x00],
    ] {
        assert!(matches!(
            parse_pki_message(garbage),
            Err(ScepError::Malformed(_))
        ));
    }
}

#[test]
fn reads_a_third_party_cert_rep() {
    // smallstep/scep's test CertRep: a SUCCESS signed by the server, the signer in the bag.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/smallstep-scep/testdata/CertRep.der"
    );
    let der = std::fs::read(path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    let view = signed::read(&der).expect("reads");
    assert_eq!(view.attributes.message_type.as_deref(), Some("3"));
    assert_eq!(view.attributes.pki_status.as_deref(), Some("0"));
    assert!(view.attributes.transaction_id.is_some());
    assert!(view.attributes.recipient_nonce.is_some());
    assert!(super::cipher::envelope_cipher(&view.content.expect("envelope")).is_ok());
}
