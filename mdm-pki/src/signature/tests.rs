//! `Mdm-Signature` verification: every accepted form and every refusal, with keys, certificates
//! and signatures made at test time (`crate::fixture`) or by the openssl CLI (`openssl`). What the
//! trust check decides about certificates is tested with it, in `crate::trust`; here, only that
//! the signer goes through it.

mod openssl;

use cms::cert::CertificateChoices;
use cms::signed_data::{CertificateSet, SignerInfos};
use sha2::{Digest, Sha256};
use x509_cert::der::asn1::{OctetString, SetOfVec};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::Any;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::*;
use crate::algorithm::{
    DigestAlgorithm, ECDSA_WITH_SHA256, ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, SHA256_WITH_RSA,
};
use crate::fixture::*;
use crate::TrustError;

const BODY: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>\
    <key>MessageType</key><string>Authenticate</string>\
    <key>UDID</key><string>UDID-RSA-0001</string></dict></plist>\n";

fn verify(pki: &Pki, der: &[u8]) -> Result<VerifiedCertificate, SignatureError> {
    pki.verifier().verify(&header(der), BODY, NOW)
}

fn by_device(pki: &Pki, spec: SignSpec) -> Vec<u8> {
    sign(BODY, pki.device_key, &[&pki.device], spec)
}

/// Every form a device may send for `pki`'s key type: each digest, with and without signed
/// attributes, with the RSA signature algorithm given both ways.
fn every_form(pki: &Pki) -> Vec<(String, Vec<u8>)> {
    let mut forms = Vec::new();
    for digest in DIGESTS {
        for signed_attrs in [false, true] {
            for named_algorithm in [false, true] {
                let spec = SignSpec {
                    named_algorithm,
                    ..SignSpec::new(digest, signed_attrs)
                };
                let name = format!("{digest:?} attrs={signed_attrs} named={named_algorithm}");
                forms.push((name, by_device(pki, spec)));
            }
        }
    }
    forms
}

// ---- accepted ----

#[test]
fn rsa_every_digest_with_and_without_signed_attributes() {
    let pki = Pki::rsa();
    for (name, der) in every_form(&pki) {
        let signer = verify(&pki, &der).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signer.common_name, "UDID-RSA-0001", "{name}");
    }
}

#[test]
fn p256_every_digest_with_and_without_signed_attributes() {
    let pki = Pki::p256();
    for (name, der) in every_form(&pki) {
        let signer = verify(&pki, &der).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(signer.common_name, "UDID-EC-0001", "{name}");
    }
}

#[test]
fn ber_with_indefinite_lengths_and_chunked_strings_is_accepted() {
    for pki in [Pki::rsa(), Pki::p256()] {
        for (name, der) in every_form(&pki) {
            let ber = to_indefinite_ber(&der, 100);
            assert_ne!(ber, der);
            // What real macOS signatures look like from their first bytes.
            assert!(header(&ber).starts_with(b"MIAGCSqGSIb3DQEHAqCA"), "{name}");
            let signer = verify(&pki, &ber).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&*signer.cert_der, pki.device.der(), "{name}");
        }
    }
}

#[test]
fn verified_signer_describes_the_certificate_as_sent() {
    let pki = Pki::rsa();
    let signer = verify(
        &pki,
        &by_device(&pki, SignSpec::new(DigestAlgorithm::Sha1, false)),
    );
    let signer = signer.expect("verifies");
    assert_eq!(&*signer.cert_der, pki.device.der());
    assert_eq!(
        signer.sha256,
        <[u8; 32]>::from(Sha256::digest(pki.device.der()))
    );
    assert_eq!(signer.common_name, "UDID-RSA-0001");
    assert_eq!(signer.subject, "CN=UDID-RSA-0001");
    assert_eq!(signer.issuer, "CN=Test Device CA,O=MDM Tests");
    assert_eq!(signer.not_after, NOW + 30 * DAY);
}

#[test]
fn signer_certificate_with_an_empty_subject_is_accepted() {
    let pki = Pki::rsa();
    let device = CertSpec::device("", pki.device_key, (&pki.ca, pki.ca_key)).build();
    let der = sign(
        BODY,
        pki.device_key,
        &[&device],
        SignSpec::new(DigestAlgorithm::Sha1, false),
    );
    let signer = verify(&pki, &der).expect("verifies");
    assert_eq!(
        (signer.common_name.as_str(), signer.subject.as_str()),
        ("", "")
    );
}

#[test]
fn signer_is_found_by_key_identifier_and_among_other_certificates() {
    let pki = Pki::rsa();
    let spec = SignSpec {
        by_key_id: true,
        ..SignSpec::new(DigestAlgorithm::Sha256, true)
    };
    let der = sign(BODY, pki.device_key, &[&pki.device, &pki.ca], spec);
    let signer = verify(&pki, &der).expect("verifies");
    assert_eq!(&*signer.cert_der, pki.device.der());
}

// ---- refused ----

#[test]
fn the_signer_goes_through_the_one_trust_check() {
    let pki = Pki::rsa();
    let spec = SignSpec::new(DigestAlgorithm::Sha256, false);
    let foreign_ca = CertSpec::ca("CN=Someone Else's CA", rsa_key(3)).build();
    let signers = [
        CertSpec::device("CN=foreign", pki.device_key, (&foreign_ca, rsa_key(3))),
        CertSpec {
            validity: (NOW - 60 * DAY, NOW - DAY),
            ..CertSpec::device("CN=expired", pki.device_key, (&pki.ca, pki.ca_key))
        },
        CertSpec::device("CN=one,CN=two", pki.device_key, (&pki.ca, pki.ca_key)),
    ];
    for spec_of_signer in signers {
        let signer = spec_of_signer.build();
        let refused = pki
            .anchors()
            .verify(signer.der(), NOW)
            .expect_err("the trust check refuses it");
        let der = sign(BODY, pki.device_key, &[&signer], spec);
        assert_eq!(
            verify(&pki, &der),
            Err(SignatureError::Certificate(refused)),
            "{}",
            signer.subject()
        );
    }
    // And what it accepts, the signature path hands on unchanged.
    let der = by_device(&pki, spec);
    assert_eq!(
        verify(&pki, &der),
        pki.anchors()
            .verify(pki.device.der(), NOW)
            .map_err(Into::into)
    );
}

#[test]
fn tampered_body_is_refused() {
    for pki in [Pki::rsa(), Pki::p256()] {
        for (attrs, expected) in [
            (true, SignatureError::MessageDigestMismatch),
            (false, SignatureError::BadSignature),
        ] {
            let der = by_device(&pki, SignSpec::new(DigestAlgorithm::Sha256, attrs));
            let tampered = replaced(BODY, b"Authenticate", b"TokenUpdate!");
            let result = pki.verifier().verify(&header(&der), &tampered, NOW);
            assert_eq!(result, Err(expected));
        }
    }
}

#[test]
fn signature_by_another_key_is_refused() {
    let pki = Pki::rsa();
    for attrs in [false, true] {
        let spec = SignSpec::new(DigestAlgorithm::Sha256, attrs);
        let der = sign(BODY, rsa_key(2), &[&pki.device], spec);
        assert_eq!(verify(&pki, &der), Err(SignatureError::BadSignature));
    }
}

#[test]
fn garbage_base64_is_refused() {
    let verifier = Pki::p256().verifier();
    for garbage in [&b"not base64!"[..], b"MIAG*CSqG", b"A", b"\xff\xfe\x00"] {
        let result = verifier.verify(garbage, BODY, NOW);
        assert!(
            matches!(result, Err(SignatureError::InvalidBase64 { .. })),
            "{garbage:?}: {result:?}"
        );
    }
    assert_eq!(
        verifier.verify(b"  ", BODY, NOW),
        Err(SignatureError::EmptyHeader)
    );
    // Base64 of bytes that are not a signature.
    let result = verifier.verify(&header(b"hello, world"), BODY, NOW);
    assert!(matches!(result, Err(SignatureError::MalformedBer { .. })));
    let result = verifier.verify(&header(&[0x30, 0x03, 0x02, 0x01, 0x05]), BODY, NOW);
    assert!(matches!(result, Err(SignatureError::MalformedCms { .. })));
}

#[test]
fn header_over_16_kib_is_refused_before_decoding() {
    let verifier = Pki::p256().verifier();
    let result = verifier.verify(&vec![b'A'; MAX_HEADER_BYTES + 1], BODY, NOW);
    assert_eq!(
        result,
        Err(SignatureError::HeaderTooLarge {
            len: MAX_HEADER_BYTES + 1,
            max: MAX_HEADER_BYTES
        })
    );
    // Garbage at the limit is read, and refused for being garbage.
    let result = verifier.verify(&vec![b'A'; MAX_HEADER_BYTES], BODY, NOW);
    assert!(matches!(result, Err(SignatureError::MalformedBer { .. })));
}

#[test]
fn ber_nested_deeper_than_64_levels_is_refused() {
    let verifier = Pki::p256().verifier();
    // SEQUENCE { SEQUENCE { … } }, every level with an indefinite length.
    let nested = |levels: usize| [[0x30, 0x80].repeat(levels), vec![0; 2 * levels]].concat();
    let result = verifier.verify(&header(&nested(MAX_BER_DEPTH + 1)), BODY, NOW);
    assert_eq!(result, Err(SignatureError::BerTooDeep { limit: 64 }));
    let result = verifier.verify(&header(&nested(MAX_BER_DEPTH)), BODY, NOW);
    assert!(matches!(result, Err(SignatureError::MalformedCms { .. })));
}

#[test]
fn sets_too_large_to_sort_quickly_are_refused_before_decoding() {
    // 3,000 distinct elements in descending order: the `der` crate's insertion sort would spend
    // seconds on them.
    let content: Vec<u8> = (0..3000u16)
        .rev()
        .flat_map(|i| [[0x04, 0x02], i.to_be_bytes()].concat())
        .collect();
    let set = [
        vec![0x31, 0x82],
        (content.len() as u16).to_be_bytes().to_vec(),
        content,
    ]
    .concat();
    let verifier = Pki::p256().verifier();
    let result = verifier.verify(&header(&set), BODY, NOW);
    assert_eq!(result, Err(SignatureError::SetTooLarge { limit: 32 }));
}

#[test]
fn signature_must_be_detached_with_one_signer_and_its_certificate() {
    let pki = Pki::rsa();
    let der = by_device(&pki, SignSpec::new(DigestAlgorithm::Sha256, false));
    let attached = modify(&der, |sd| {
        let content = OctetString::new(BODY).expect("octets");
        sd.encap_content_info.econtent = Some(Any::encode_from(&content).expect("any"));
    });
    assert_eq!(verify(&pki, &attached), Err(SignatureError::NotDetached));

    let unsigned = modify(&der, |sd| sd.signer_infos = SignerInfos(SetOfVec::new()));
    assert_eq!(
        verify(&pki, &unsigned),
        Err(SignatureError::SignerCount { count: 0 })
    );
    let twice = modify(&der, |sd| {
        let mut second = sd.signer_infos.0.get(0).expect("signer").clone();
        second.signature = OctetString::new(vec![1; 256]).expect("octets");
        sd.signer_infos.0.insert(second).expect("insert");
    });
    assert_eq!(
        verify(&pki, &twice),
        Err(SignatureError::SignerCount { count: 2 })
    );

    let certless = modify(&der, |sd| sd.certificates = None);
    assert_eq!(
        verify(&pki, &certless),
        Err(SignatureError::SignerCertificateMissing)
    );
    let wrong_cert = modify(&der, |sd| {
        let ca = CertificateChoices::Certificate(pki.ca.certificate().clone());
        sd.certificates = Some(CertificateSet::try_from(vec![ca]).expect("certs"));
    });
    assert_eq!(
        verify(&pki, &wrong_cert),
        Err(SignatureError::SignerCertificateMissing)
    );
}

#[test]
fn algorithms_must_be_supported_and_agree() {
    let pki = Pki::rsa();
    let der = by_device(&pki, SignSpec::new(DigestAlgorithm::Sha1, false));
    let with_algorithms = |digest: ObjectIdentifier, signature: ObjectIdentifier| {
        modify(&der, |sd| {
            let mut info = sd.signer_infos.0.get(0).expect("signer").clone();
            info.digest_alg = AlgorithmIdentifierOwned {
                oid: digest,
                parameters: None,
            };
            info.signature_algorithm = AlgorithmIdentifierOwned {
                oid: signature,
                parameters: None,
            };
            sd.signer_infos = SignerInfos::try_from(vec![info]).expect("signer infos");
        })
    };
    let sha1 = digest_oid(DigestAlgorithm::Sha1);
    let md5 = ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
    let rsa_pss = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
    assert!(matches!(
        verify(&pki, &with_algorithms(sha1, SHA256_WITH_RSA)),
        Err(SignatureError::AlgorithmMismatch { .. })
    ));
    assert!(matches!(
        verify(&pki, &with_algorithms(sha1, ECDSA_WITH_SHA256)),
        Err(SignatureError::AlgorithmMismatch { .. })
    ));
    assert!(matches!(
        verify(&pki, &with_algorithms(md5, SHA256_WITH_RSA)),
        Err(SignatureError::UnsupportedDigestAlgorithm { oid }) if oid == "1.2.840.113549.2.5"
    ));
    assert!(matches!(
        verify(&pki, &with_algorithms(sha1, rsa_pss)),
        Err(SignatureError::UnsupportedSignatureAlgorithm { .. })
    ));
}

#[test]
fn signed_attributes_must_carry_the_body_digest_of_id_data() {
    let pki = Pki::p256();
    let der = by_device(&pki, SignSpec::new(DigestAlgorithm::Sha256, true));
    let with_attributes = |keep: &dyn Fn(&ObjectIdentifier) -> bool, content_type| {
        modify(&der, |sd| {
            let mut info = sd.signer_infos.0.get(0).expect("signer").clone();
            let attributes = info.signed_attrs.take().expect("signed attributes");
            let mut kept = Vec::new();
            for mut attribute in attributes.into_vec() {
                if attribute.oid == ID_CONTENT_TYPE {
                    let value = Any::encode_from(&content_type).expect("oid");
                    attribute.values = SetOfVec::try_from(vec![value]).expect("values");
                }
                if keep(&attribute.oid) {
                    kept.push(attribute);
                }
            }
            info.signed_attrs = Some(SetOfVec::try_from(kept).expect("attributes"));
            sd.signer_infos = SignerInfos::try_from(vec![info]).expect("signer infos");
        })
    };
    let id_data = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
    let no_digest = with_attributes(&|oid| *oid != ID_MESSAGE_DIGEST, id_data);
    assert_eq!(
        verify(&pki, &no_digest),
        Err(SignatureError::MissingMessageDigest)
    );
    let enveloped = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
    let wrong_type = with_attributes(&|_| true, enveloped);
    assert!(matches!(
        verify(&pki, &wrong_type),
        Err(SignatureError::UnexpectedContentType { .. })
    ));
    // The signature covers the attributes: dropping contentType breaks it.
    let no_type = with_attributes(&|oid| *oid != ID_CONTENT_TYPE, id_data);
    assert_eq!(verify(&pki, &no_type), Err(SignatureError::BadSignature));
}

// ---- inspect ----

#[test]
fn inspect_describes_a_good_signature_and_agrees_with_verify() {
    let pki = Pki::rsa();
    let der = by_device(&pki, SignSpec::new(DigestAlgorithm::Sha1, true));
    let verifier = pki.verifier();
    let inspection = inspect(&header(&der), BODY, Some(&verifier), NOW);
    assert_eq!(inspection.verdict, Ok(()));
    assert!(inspection.chain_checked);
    assert_eq!(inspection.subject.as_deref(), Some("CN=UDID-RSA-0001"));
    assert_eq!(
        inspection.issuer.as_deref(),
        Some("CN=Test Device CA,O=MDM Tests")
    );
    assert_eq!(inspection.common_name.as_deref(), Some("UDID-RSA-0001"));
    assert_eq!(inspection.sha256, Some(pki.device.sha256()));
    assert_eq!(inspection.digest_algorithm.as_deref(), Some("SHA-1"));
    assert_eq!(
        inspection.signature_algorithm.as_deref(),
        Some("rsaEncryption")
    );
    assert_eq!(inspection.signed_attributes, Some(true));
    assert_eq!(inspection.certificates, 1);
    assert_eq!(
        (inspection.not_before, inspection.not_after),
        (Some(NOW - 30 * DAY), Some(NOW + 30 * DAY))
    );
}

#[test]
fn inspect_describes_what_it_can_of_a_refused_signature() {
    let pki = Pki::p256();
    let der = by_device(&pki, SignSpec::new(DigestAlgorithm::Sha512, false));
    let inspection = inspect(&header(&der), b"another body", Some(&pki.verifier()), NOW);
    assert_eq!(inspection.verdict, Err(SignatureError::BadSignature));
    assert_eq!(inspection.subject.as_deref(), Some("CN=UDID-EC-0001"));
    assert_eq!(
        inspection.signature_algorithm.as_deref(),
        Some("ecdsa-with-SHA512")
    );

    let inspection = inspect(b"%%%", BODY, None, NOW);
    assert!(matches!(
        inspection.verdict,
        Err(SignatureError::InvalidBase64 { .. })
    ));
    assert_eq!(
        (inspection.subject, inspection.digest_algorithm),
        (None, None)
    );
}

#[test]
fn inspect_without_a_verifier_checks_the_signature_only() {
    let pki = Pki::rsa();
    let stranger = Pki::p256();
    let der = by_device(&stranger, SignSpec::new(DigestAlgorithm::Sha256, true));
    let inspection = inspect(&header(&der), BODY, None, NOW);
    assert_eq!(inspection.verdict, Ok(()));
    assert!(!inspection.chain_checked);
    let inspection = inspect(&header(&der), BODY, Some(&pki.verifier()), NOW);
    assert!(matches!(
        inspection.verdict,
        Err(SignatureError::Certificate(
            TrustError::UntrustedIssuer { .. }
        ))
    ));
}

// ---- helpers ----

/// `bytes` with the first occurrence of `from` replaced by `to`.
fn replaced(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// A signer's key is read once and remembered only for a trusted certificate; a remembered key
/// changes no verdict (a tampered body is still refused, an expired signer still refused).
#[test]
fn signer_keys_are_remembered_only_for_trusted_certificates() {
    let pki = Pki::rsa();
    let verifier = pki.verifier();
    let signed = header(&by_device(
        &pki,
        SignSpec::new(DigestAlgorithm::Sha256, false),
    ));
    let remembered = |verifier: &SignatureVerifier| {
        verifier.keys.run_pending_tasks();
        verifier.keys.entry_count()
    };
    // Made by another CA: verified over the body, refused by the trust check, not remembered.
    let stranger = Pki::p256();
    let foreign = header(&by_device(
        &stranger,
        SignSpec::new(DigestAlgorithm::Sha256, false),
    ));
    assert!(verifier.verify(&foreign, BODY, NOW).is_err());
    assert_eq!(remembered(&verifier), 0);

    let first = verifier.verify(&signed, BODY, NOW).expect("trusted");
    assert_eq!(remembered(&verifier), 1);
    assert_eq!(verifier.verify(&signed, BODY, NOW), Ok(first));
    assert_eq!(
        verifier.verify(&signed, b"another body", NOW),
        Err(SignatureError::BadSignature)
    );
    assert!(matches!(
        verifier.verify(&signed, BODY, NOW + 400 * DAY),
        Err(SignatureError::Certificate(
            TrustError::CertificateExpired { .. }
        ))
    ));
}
