//! The trust check: what it accepts, every refusal, and its configuration, with certificates made
//! at test time (`crate::fixture`).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::*;
use crate::fixture::*;

/// A device certificate of `pki`'s CA with this subject and validity.
fn device(pki: &Pki, subject: &str, validity: (i64, i64)) -> ChainCert {
    CertSpec {
        validity,
        ..CertSpec::device(subject, pki.device_key, (&pki.ca, pki.ca_key))
    }
    .build()
}

// ---- accepted ----

#[test]
fn a_certificate_of_our_ca_is_described_as_sent() {
    let pki = Pki::rsa();
    let verified = pki
        .anchors()
        .verify(pki.device.der(), NOW)
        .expect("trusted");
    assert_eq!(
        verified,
        VerifiedCertificate {
            cert_der: pki.device.der().into(),
            sha256: Sha256::digest(pki.device.der()).into(),
            common_name: "UDID-RSA-0001".into(),
            subject: "CN=UDID-RSA-0001".into(),
            issuer: "CN=Test Device CA,O=MDM Tests".into(),
            not_after: NOW + 30 * DAY,
        }
    );
}

#[test]
fn an_empty_subject_is_accepted_with_an_empty_common_name() {
    let pki = Pki::p256();
    let cert = device(&pki, "", (NOW - DAY, NOW + DAY));
    let verified = pki.anchors().verify(cert.der(), NOW).expect("trusted");
    assert_eq!(
        (verified.common_name, verified.subject),
        (String::new(), String::new())
    );
}

#[test]
fn rsa_and_ecdsa_cas_issue_either_kind_of_key() {
    let rsa = Pki::rsa();
    let ec = Pki::p256();
    let cases = [
        (&rsa, ec.device_key, "CN=ec-device-of-rsa-ca"),
        (&ec, rsa.device_key, "CN=rsa-device-of-ec-ca"),
    ];
    for (ca, device_key, subject) in cases {
        let cert = CertSpec::device(subject, device_key, (&ca.ca, ca.ca_key)).build();
        ca.anchors()
            .verify(cert.der(), NOW)
            .unwrap_or_else(|e| panic!("{subject}: {e}"));
    }
}

#[test]
fn clock_skew_applies_to_both_ends_of_the_validity_period() {
    let pki = Pki::rsa();
    let verify = |validity| {
        pki.anchors()
            .verify(device(&pki, "CN=skew", validity).der(), NOW)
    };
    // Issued "two minutes from now" by a CA whose clock runs ahead: within the 5-minute skew.
    assert!(verify((NOW + 120, NOW + DAY)).is_ok());
    assert!(verify((NOW - DAY, NOW - 120)).is_ok());
    assert!(matches!(
        verify((NOW + 600, NOW + DAY)),
        Err(TrustError::CertificateNotYetValid { not_before, .. }) if not_before == NOW + 600
    ));
    assert_eq!(
        verify((NOW - 60 * DAY, NOW - DAY)),
        Err(TrustError::CertificateExpired {
            subject: "CN=skew".into(),
            not_after: NOW - DAY,
            now: NOW
        })
    );
}

/// The check `check_validity` makes for the TLS handshake is the one `verify` makes.
#[test]
fn the_validity_check_alone_agrees_with_the_trust_check() {
    let pki = Pki::rsa();
    let skew = pki.anchors().clock_skew();
    for validity in [
        (NOW + 120, NOW + DAY),
        (NOW + 600, NOW + DAY),
        (NOW - DAY, NOW - 120),
        (NOW - DAY, NOW - 600),
    ] {
        let cert = device(&pki, "CN=skew", validity);
        assert_eq!(
            cert.check_validity(NOW, skew),
            pki.anchors().verify(cert.der(), NOW).map(|_| ()),
            "{validity:?}"
        );
    }
}

// ---- refused ----

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let pki = Pki::rsa();
    // Another CA, under another name.
    let other_ca = CertSpec::ca("CN=Someone Else's CA", rsa_key(3)).build();
    let cert = CertSpec::device("CN=UDID-RSA-0001", pki.device_key, (&other_ca, rsa_key(3)));
    assert!(matches!(
        pki.anchors().verify(cert.build().der(), NOW),
        Err(TrustError::UntrustedIssuer { issuer }) if issuer == "CN=Someone Else's CA"
    ));
    // An impostor CA that copies our CA's name but has its own key.
    let impostor = CertSpec::ca("CN=Test Device CA,O=MDM Tests", rsa_key(3)).build();
    let cert = CertSpec::device("CN=UDID-RSA-0001", pki.device_key, (&impostor, rsa_key(3)));
    assert!(matches!(
        pki.anchors().verify(cert.build().der(), NOW),
        Err(TrustError::CertificateSignatureInvalid { .. })
    ));
}

#[test]
fn an_expired_ca_no_longer_vouches() {
    let ca_key = rsa_key(0);
    let ca = CertSpec {
        validity: (NOW - 60 * DAY, NOW - DAY),
        ..CertSpec::ca("CN=Old Device CA", ca_key)
    }
    .build();
    let cert = CertSpec::device("CN=UDID-1", rsa_key(1), (&ca, ca_key)).build();
    let anchors = TrustAnchors::new(vec![ca.der().to_vec()], Duration::ZERO).expect("anchors");
    assert!(matches!(
        anchors.verify(cert.der(), NOW),
        Err(TrustError::CertificateExpired { subject, .. }) if subject == "CN=Old Device CA"
    ));
}

#[test]
fn what_is_not_one_certificate_is_refused() {
    let anchors = Pki::p256().anchors();
    for junk in [&b""[..], b"junk", &[0x30, 0x03, 0x02, 0x01, 0x05]] {
        assert!(
            matches!(
                anchors.verify(junk, NOW),
                Err(TrustError::MalformedCertificate { .. })
            ),
            "{junk:?}"
        );
    }
}

#[test]
fn two_common_names_are_refused() {
    let pki = Pki::p256();
    let cert = device(&pki, "CN=one,CN=two", (NOW - DAY, NOW + DAY));
    assert_eq!(
        pki.anchors().verify(cert.der(), NOW),
        Err(TrustError::AmbiguousCommonName)
    );
}

// ---- configuration ----

#[test]
fn several_cas_load_from_one_pem_file() {
    let rsa = Pki::rsa();
    let ec = Pki::p256();
    let pem = format!(
        "Device CA (RSA)\n{}\nDevice CA (EC)\n{}",
        pem(rsa.ca.der()),
        pem(ec.ca.der())
    );
    let anchors = TrustAnchors::from_pem(pem.as_bytes(), Duration::ZERO).expect("PEM");
    for pki in [&rsa, &ec] {
        anchors.verify(pki.device.der(), NOW).expect("trusted");
    }
}

#[test]
fn the_configuration_is_checked() {
    let pki = Pki::p256();
    let skew = Duration::ZERO;
    assert_eq!(
        TrustAnchors::new(vec![], skew).err(),
        Some(TrustError::NoTrustAnchors)
    );
    assert!(matches!(
        TrustAnchors::new(vec![b"junk".to_vec()], skew),
        Err(TrustError::MalformedCertificate { .. })
    ));
    let not_a_ca = CertSpec {
        ca: Some((false, None)),
        ..CertSpec::ca("CN=Not a CA", pki.ca_key)
    }
    .build();
    assert!(matches!(
        TrustAnchors::new(vec![not_a_ca.der().to_vec()], skew),
        Err(TrustError::NotACa { .. })
    ));
    assert!(matches!(
        TrustAnchors::from_pem(b"no certificates here", skew),
        Err(TrustError::InvalidPem { .. })
    ));
}

// ---- remembered answers (cache.rs) ----

/// A remembered answer is the one the check gives without it, at every moment: before and after
/// the certificate's and its CA's validity periods, on both sides of the skew, whichever moment
/// was asked first.
#[test]
fn remembered_answers_are_the_trust_checks_own_at_every_moment() {
    let ca_key = rsa_key(0);
    // The CA expires before the device certificate does: the window ends with the CA.
    let ca = CertSpec {
        validity: (NOW - 10 * DAY, NOW + 5 * DAY),
        ..CertSpec::ca("CN=Short-lived CA", ca_key)
    }
    .build();
    let cert = CertSpec {
        validity: (NOW - DAY, NOW + 30 * DAY),
        ..CertSpec::device("CN=UDID-WINDOW", rsa_key(1), (&ca, ca_key))
    }
    .build();
    let skew = 300;
    let fresh =
        || TrustAnchors::new(vec![ca.der().to_vec()], Duration::from_secs(300)).expect("anchors");
    let moments = [
        NOW - DAY - skew - 1,
        NOW - DAY - skew,
        NOW,
        NOW + 5 * DAY + skew,
        NOW + 5 * DAY + skew + 1,
        NOW + 30 * DAY,
    ];
    // Remembered once at NOW, then asked at every moment, in both orders.
    let remembering = fresh();
    remembering.verify(cert.der(), NOW).expect("trusted now");
    assert_eq!(remembering.verified.len(), 1);
    for at in moments.iter().chain(moments.iter().rev()) {
        assert_eq!(
            remembering.verify(cert.der(), *at),
            fresh().verify(cert.der(), *at),
            "at NOW{:+}",
            at - NOW
        );
    }
    assert!(remembering
        .verify(cert.der(), NOW + 5 * DAY + skew + 1)
        .is_err());
    assert!(remembering
        .verify(cert.der(), NOW - DAY - skew - 1)
        .is_err());
}

#[test]
fn a_certificate_is_checked_against_its_ca_once_and_refusals_are_not_remembered() {
    let pki = Pki::rsa();
    let anchors = pki.anchors();
    let sha256: [u8; 32] = Sha256::digest(pki.device.der()).into();
    assert!(!anchors.verified.accepts(&sha256, NOW));
    let first = anchors.verify(pki.device.der(), NOW).expect("trusted");
    assert!(anchors.verified.accepts(&sha256, NOW), "remembered");
    assert_eq!(
        anchors.verify(pki.device.der(), NOW + 60),
        Ok(first),
        "the same facts from the remembered answer"
    );
    // Clones share what was remembered (the edge clones its anchors per listener).
    assert!(anchors.clone().verified.accepts(&sha256, NOW));

    let other = Pki::p256();
    assert!(anchors.verify(other.device.der(), NOW).is_err());
    let two_names = device(&pki, "CN=a,CN=b", (NOW - DAY, NOW + DAY));
    assert!(anchors.verify(two_names.der(), NOW).is_err());
    assert_eq!(anchors.verified.len(), 1, "only the accepted certificate");
}
