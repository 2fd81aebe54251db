//! The real-format push certificates in the repository's `fixtures/`: the topic is read from the UID
//! attribute; certificates without one, or with another prefix, are refused.

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

fn der(path: &str) -> Vec<u8> {
    let full = format!("{FIXTURES}/{path}");
    let pem = std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"));
    CertificateDer::from_pem_slice(&pem)
        .expect("a certificate")
        .to_vec()
}

#[test]
fn the_topic_is_the_uid_attribute() {
    assert_eq!(
        topic_of(&der("nanomdm/test/push.pem")).expect("topic"),
        "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9"
    );
    assert_eq!(
        topic_of(&der("micromdm/push-certs/mock_push_cert.pem")).expect("topic"),
        "com.apple.mgmt.External.18a16429-886b-41f1-9c30-2bd04ae4fc37"
    );
}

#[test]
fn a_certificate_without_a_push_uid_is_refused_clearly() {
    let err = topic_of(&der("micromdm/push-certs/mock_push_cert_no_uid.pem")).expect_err("no UID");
    assert!(matches!(err, Error::NotPushCertificate(_)), "{err:?}");
    assert!(err.to_string().contains("has no UID attribute"), "{err}");
    let err = topic_of(&der(
        "micromdm/push-certs/mock_push_cert_wrong_uid_prefix.pem",
    ))
    .expect_err("wrong prefix");
    assert!(
        err.to_string()
            .contains("does not start with com.apple.mgmt."),
        "{err}"
    );
}

#[test]
fn pem_output_reads_back() {
    let der = der("nanomdm/test/push.pem");
    let pem = pem_block("CERTIFICATE", &der);
    assert_eq!(
        CertificateDer::from_pem_slice(pem.as_bytes())
            .expect("reads")
            .as_ref(),
        der.as_slice()
    );
}
