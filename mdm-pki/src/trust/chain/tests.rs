use super::*;
use crate::algorithm::DigestAlgorithm;
use crate::fixture::*;

/// Apple's public CAs, as shipped in `mdm-pki/certs/apple/`.
const APPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/certs/apple/");

/// 2026-01-01: after both Apple intermediates expired, before Apple Root CA does.
const IN_2026: i64 = 1_767_225_600;
/// 2010-01-01: when all three were valid.
const IN_2010: i64 = 1_262_304_000;

fn apple(name: &str) -> ChainCert {
    let path = format!("{APPLE}{name}");
    let pem = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (_, der) = x509_cert::der::pem::decode_vec(&pem).expect("PEM");
    ChainCert::from_der(der).expect("certificate")
}

fn subjects(path: &[&ChainCert]) -> Vec<String> {
    path.iter().map(|cert| cert.subject()).collect()
}

#[test]
fn apple_chain_verifies_when_its_expired_intermediates_skip_the_time_check() {
    let root = [apple("apple_root_ca.pem")];
    let iphone_ca = [apple("apple_iphone_ca.pem").skip_validity_check()];
    let device_ca = apple("apple_iphone_device_ca.pem").skip_validity_check();
    let path = verify_chain(&device_ca, &iphone_ca, &root, IN_2026, Duration::ZERO);
    let path = path.expect("chain to Apple Root CA");
    assert_eq!(
        subjects(&path),
        [
            "CN=Apple iPhone Certification Authority,OU=Apple Certification Authority,O=Apple Inc.,C=US",
            "CN=Apple Root CA,OU=Apple Certification Authority,O=Apple Inc.,C=US",
        ]
    );
}

#[test]
fn apple_chain_checks_time_for_every_certificate_not_marked() {
    let root = [apple("apple_root_ca.pem")];
    let iphone_ca = [apple("apple_iphone_ca.pem")];
    let device_ca = apple("apple_iphone_device_ca.pem");
    // Unmarked, the intermediate's expiry (2022) is found first, on the way up...
    let skew = Duration::from_secs(3600);
    let result = verify_chain(
        &device_ca.clone().skip_validity_check(),
        &iphone_ca,
        &root,
        IN_2026,
        skew,
    );
    assert!(matches!(
        result,
        Err(TrustError::CertificateExpired { subject, .. })
            if subject.starts_with("CN=Apple iPhone Certification Authority")
    ));
    // ...and the leaf's (2014) when the intermediate is marked but the leaf is not.
    let marked = [apple("apple_iphone_ca.pem").skip_validity_check()];
    let result = verify_chain(&device_ca, &marked, &root, IN_2026, skew);
    assert!(matches!(
        result,
        Err(TrustError::CertificateExpired { subject, not_after: 1_397_688_886, .. })
            if subject.starts_with("CN=Apple iPhone Device CA")
    ));
    // In 2010 every one of them was valid.
    assert!(verify_chain(&device_ca, &iphone_ca, &root, IN_2010, Duration::ZERO).is_ok());
}

#[test]
fn an_anchor_does_not_vouch_for_what_it_did_not_sign() {
    let root = [apple("apple_root_ca.pem")];
    let device_ca = apple("apple_iphone_device_ca.pem").skip_validity_check();
    let result = verify_chain(&device_ca, &[], &root, IN_2026, Duration::ZERO);
    assert!(matches!(result, Err(TrustError::UntrustedIssuer { .. })));
}

/// Root (RSA) → intermediate (P-256) → intermediate (RSA) → leaf (P-256), as
/// (anchors, intermediates, leaf).
fn four_level_chain() -> ([ChainCert; 1], [ChainCert; 2], ChainCert) {
    let root_key = rsa_key(0);
    let root = CertSpec::ca("CN=Root", root_key).build();
    let upper_key = Box::leak(Box::new(Key::p256()));
    let upper = CertSpec {
        issuer: Some((&root, root_key)),
        ..CertSpec::ca("CN=Upper", upper_key)
    }
    .build();
    let lower_key = rsa_key(1);
    let lower = CertSpec {
        issuer: Some((&upper, upper_key)),
        digest: DigestAlgorithm::Sha512,
        ..CertSpec::ca("CN=Lower", lower_key)
    }
    .build();
    let leaf = CertSpec::device("CN=leaf", &Key::p256(), (&lower, lower_key)).build();
    ([root], [lower, upper], leaf)
}

#[test]
fn chains_of_several_levels_in_any_order() {
    let (anchors, intermediates, leaf) = four_level_chain();
    let path = verify_chain(&leaf, &intermediates, &anchors, NOW, Duration::ZERO);
    assert_eq!(
        subjects(&path.expect("chain")),
        ["CN=Lower", "CN=Upper", "CN=Root"]
    );
    // Without the upper intermediate there is no way to the root.
    let result = verify_chain(&leaf, &intermediates[..1], &anchors, NOW, Duration::ZERO);
    assert_eq!(
        result.map(|path| path.len()),
        Err(TrustError::UntrustedIssuer {
            issuer: "CN=Upper".into()
        })
    );
}

#[test]
fn issuers_must_be_cas_within_their_path_length() {
    let key = Key::p256();
    let ca = |subject, ca, issuer| {
        CertSpec {
            ca,
            issuer,
            ..CertSpec::ca(subject, &key)
        }
        .build()
    };
    let root = ca("CN=Root", Some((true, Some(0))), None);
    let middle = ca("CN=Middle", Some((true, None)), Some((&root, &key)));
    let leaf = CertSpec::device("CN=leaf", &key, (&middle, &key)).build();
    let (intermediates, anchors) = ([middle], [root.clone()]);
    let result = verify_chain(&leaf, &intermediates, &anchors, NOW, Duration::ZERO);
    assert_eq!(
        result.map(|path| path.len()),
        Err(TrustError::PathLengthExceeded {
            subject: "CN=Root".into()
        })
    );
    let not_ca = ca("CN=Middle", Some((false, None)), Some((&root, &key)));
    let leaf = CertSpec::device("CN=leaf", &key, (&not_ca, &key)).build();
    let (intermediates, anchors) = ([not_ca], [root]);
    let result = verify_chain(&leaf, &intermediates, &anchors, NOW, Duration::ZERO);
    assert_eq!(
        result.map(|path| path.len()),
        Err(TrustError::NotACa {
            subject: "CN=Middle".into()
        })
    );
}

#[test]
fn a_ca_renewed_under_the_same_name_is_found() {
    let old_key = Key::p256();
    let new_key = Key::p256();
    let old = CertSpec {
        validity: (NOW - 900 * DAY, NOW - 400 * DAY),
        ..CertSpec::ca("CN=Device CA", &old_key)
    }
    .build();
    let new = CertSpec::ca("CN=Device CA", &new_key).build();
    let leaf = CertSpec::device("CN=leaf", &Key::p256(), (&new, &new_key)).build();
    let anchors = [old, new];
    let path = verify_chain(&leaf, &[], &anchors, NOW, Duration::ZERO).expect("chain");
    assert!(std::ptr::eq(path[0], &anchors[1]));
    // Signed by the new key, the expired old CA does not count.
    let result = verify_chain(&leaf, &[], &anchors[..1], NOW, Duration::ZERO);
    assert!(matches!(
        result,
        Err(TrustError::CertificateSignatureInvalid { .. })
    ));
}

#[test]
fn chains_longer_than_the_limit_are_refused() {
    let key = Key::p256();
    let root = CertSpec::ca("CN=CA 0", &key).build();
    let mut certs = vec![root.clone()];
    for level in 1..=MAX_CHAIN_LEN {
        let subject = format!("CN=CA {level}");
        let cert = CertSpec {
            issuer: Some((&certs[level - 1], &key)),
            ..CertSpec::ca(&subject, &key)
        }
        .build();
        certs.push(cert);
    }
    let leaf = certs.pop().expect("leaf");
    let anchors = [root];
    let result = verify_chain(&leaf, &certs[1..], &anchors, NOW, Duration::ZERO);
    assert_eq!(
        result.map(|path| path.len()),
        Err(TrustError::ChainTooLong {
            limit: MAX_CHAIN_LEN
        })
    );
    // One level less fits.
    let leaf = certs.pop().expect("leaf");
    let path = verify_chain(&leaf, &certs[1..], &anchors, NOW, Duration::ZERO);
    assert_eq!(path.map(|path| path.len()), Ok(MAX_CHAIN_LEN - 1));
}
