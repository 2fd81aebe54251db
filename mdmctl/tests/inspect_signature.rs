//! `mdmctl inspect-signature` as an operator runs it: a signature made by OpenSSL's CMS over a
//! body verifies against the device CA and names its signer; a tampered body or another CA does
//! not, exit 1 with the reason.

use base64::Engine as _;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::PKey;
use openssl::x509::X509;
use std::process::Command;
use testkit::{workspace_bin, PkiFiles, TestCa};

fn run(args: &[&std::path::Path]) -> (i32, String) {
    let mut command = Command::new(workspace_bin("mdmctl"));
    command.arg("inspect-signature");
    for pair in args.chunks(2) {
        command.arg(pair[0]).arg(pair[1]);
    }
    let output = command.output().expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn verifies_names_the_signer_and_explains_a_refusal() {
    let ca = TestCa::new("Device CA");
    let device = ca.issue_client("UDID-INSPECT-1");
    let files = PkiFiles::new();
    let body = b"<plist><dict><key>MessageType</key><string>Authenticate</string></dict></plist>";
    let cert = X509::from_pem(device.cert_pem.as_bytes()).expect("cert");
    let key = PKey::private_key_from_pem(device.key_pem.as_bytes()).expect("key");
    let cms = CmsContentInfo::sign(
        Some(&cert),
        Some(&key),
        None,
        Some(body),
        CMSOptions::DETACHED | CMSOptions::BINARY,
    )
    .expect("sign");
    let signature = base64::engine::general_purpose::STANDARD.encode(cms.to_der().expect("der"));
    let body_file = files.write("body.plist", std::str::from_utf8(body).expect("utf8"));
    let sig_file = files.write("sig.b64", &signature);
    let ca_file = files.write("ca.pem", &ca.cert_pem());
    let (flag_body, flag_sig, flag_ca) = (
        std::path::Path::new("--body"),
        std::path::Path::new("--signature"),
        std::path::Path::new("--ca"),
    );

    let (code, text) = run(&[
        flag_body, &body_file, flag_sig, &sig_file, flag_ca, &ca_file,
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("verifies") && text.contains("UDID-INSPECT-1"),
        "{text}"
    );
    assert!(
        text.contains(&device.sha256_hex()),
        "names the certificate's SHA-256: {text}"
    );

    let tampered = files.write(
        "tampered.plist",
        "<plist><dict><key>MessageType</key><string>CheckOut</string></dict></plist>",
    );
    let (code, text) = run(&[flag_body, &tampered, flag_sig, &sig_file, flag_ca, &ca_file]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("does NOT verify"), "{text}");

    let other_ca = files.write("other.pem", &TestCa::new("Other CA").cert_pem());
    let (code, text) = run(&[
        flag_body, &body_file, flag_sig, &sig_file, flag_ca, &other_ca,
    ]);
    assert_eq!(code, 1, "{text}");

    let (code, text) = run(&[flag_body, &body_file, flag_sig, &sig_file]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("pass --ca"),
        "says the chain was not checked: {text}"
    );
}
