use super::*;
use mdm_core::ChannelIds;

fn enrollment(udid: &str, user: Option<&str>) -> EnrollmentRef {
    ChannelIds {
        udid: Some(udid.into()),
        user_id: user.map(Into::into),
        ..Default::default()
    }
    .enrollment()
    .expect("valid ids")
}

fn identity(cn: &str, policy: IdentityPolicy) -> Result<VerifiedIdentity, IdentityError> {
    VerifiedIdentity::new(
        &enrollment("UDID-1", Some("USER")),
        CertSha256::new([7; 32]),
        cn,
        AuthMethod::Mtls,
        policy,
    )
}

#[test]
fn the_policy_is_applied_when_built_and_when_read_back() {
    let ok = identity("UDID-1", IdentityPolicy::CnEqualsUdid).expect("CN is the UDID");
    assert_eq!(ok.enrollment_id().as_str(), "UDID-1:USER");
    assert!(ok.enrollment_id().is_user_channel());
    let wire = DeviceIdentity::from(ok.clone().at_generation(4));
    assert_eq!(wire.user_id, "USER");
    let back = VerifiedIdentity::try_from(wire.clone()).expect("round trip");
    assert_eq!(back, ok.at_generation(4));

    assert!(identity("OTHER", IdentityPolicy::CnEqualsUdid).is_err());
    assert!(identity("OTHER", IdentityPolicy::Unspecified).is_err());
    let bound = identity("OTHER", IdentityPolicy::BoundCertificate).expect("CN left alone");
    assert!(bound.clone().under(IdentityPolicy::CnEqualsUdid).is_err());
    let forged = DeviceIdentity {
        policy: IdentityPolicy::CnEqualsUdid.into(),
        ..DeviceIdentity::from(bound)
    };
    assert!(
        VerifiedIdentity::try_from(forged).is_err(),
        "read back, checked again"
    );
}

#[test]
fn malformed_wire_identities_are_refused() {
    let good = DeviceIdentity::from(identity("UDID-1", IdentityPolicy::CnEqualsUdid).expect("ok"));
    let cases = [
        DeviceIdentity {
            cert_sha256: vec![1; 31],
            ..good.clone()
        },
        DeviceIdentity {
            enrollment_id: "UDID-2".into(),
            ..good.clone()
        },
        DeviceIdentity {
            enrollment_id: "UDID-10".into(),
            ..good.clone()
        },
        DeviceIdentity {
            enrollment_id: "UDID-1:".into(),
            ..good.clone()
        },
        DeviceIdentity {
            device_id: "UDID:1".into(),
            enrollment_id: "UDID:1".into(),
            cert_common_name: "UDID:1".into(),
            ..good.clone()
        },
        DeviceIdentity {
            device_id: String::new(),
            enrollment_id: String::new(),
            cert_common_name: String::new(),
            ..good.clone()
        },
        DeviceIdentity {
            device_id: "A".repeat(MAX_ID_LEN + 1),
            ..good.clone()
        },
        DeviceIdentity {
            policy: 99,
            ..good.clone()
        },
    ];
    for case in cases {
        assert!(
            VerifiedIdentity::try_from(case.clone()).is_err(),
            "{case:?}"
        );
    }
    assert!(VerifiedIdentity::try_from(None).is_err());
    assert!(VerifiedIdentity::try_from(Some(good)).is_ok());
}

#[test]
fn an_identity_speaks_only_for_the_enrollment_it_names() {
    let device = identity("UDID-1", IdentityPolicy::CnEqualsUdid).expect("ok");
    assert!(device
        .speaks_for(&enrollment("UDID-1", Some("USER")))
        .is_ok());
    assert!(device.speaks_for(&enrollment("UDID-1", None)).is_err());
    assert!(device
        .speaks_for(&enrollment("UDID-2", Some("USER")))
        .is_err());
}

#[test]
fn fingerprints_are_exactly_32_bytes() {
    assert!(CertSha256::from_slice(&[0; 32]).is_ok());
    assert!(CertSha256::from_slice(&[0; 33]).is_err());
    assert!(CertSha256::from_slice(&[]).is_err());
    assert_eq!(
        format!("{:?}", CertSha256::new([0xab; 32])),
        "abababababababab…"
    );
}
