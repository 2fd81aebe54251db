use super::*;

fn ids(udid: &str, enrollment_id: &str, user_id: &str, enrollment_user_id: &str) -> ChannelIds {
    let some = |s: &str| Some(s.to_owned());
    ChannelIds {
        udid: some(udid),
        enrollment_id: some(enrollment_id),
        user_id: some(user_id),
        enrollment_user_id: some(enrollment_user_id),
        ..ChannelIds::default()
    }
}

#[test]
fn device_channel_is_the_udid() {
    let e = ids("UDID-1", "", "", "").enrollment().expect("enrollment");
    assert_eq!(e.id, "UDID-1");
    assert_eq!(e.device_id, "UDID-1");
    assert_eq!(e.kind, ChannelKind::Device);
    assert_eq!(e.user_id, None);
    assert!(!e.is_user_channel());
}

#[test]
fn user_channel_is_udid_colon_user_id() {
    let e = ids("UDID-1", "", "USER-1", "")
        .enrollment()
        .expect("enrollment");
    assert_eq!(e.id, "UDID-1:USER-1");
    assert_eq!(e.device_id, "UDID-1");
    assert_eq!(e.kind, ChannelKind::User);
    assert_eq!(e.user_id.as_deref(), Some("USER-1"));
    assert!(e.is_user_channel());
}

#[test]
fn user_enrollment_device_channel_is_the_enrollment_id() {
    let e = ids("", "ENR-1", "", "").enrollment().expect("enrollment");
    assert_eq!(e.id, "ENR-1");
    assert_eq!(e.device_id, "ENR-1");
    assert_eq!(e.kind, ChannelKind::UserEnrollmentDevice);
    assert!(!e.is_user_channel());
}

#[test]
fn user_enrollment_user_channel_is_enrollment_id_colon_enrollment_user_id() {
    let e = ids("", "ENR-1", "", "EUSER-1")
        .enrollment()
        .expect("enrollment");
    assert_eq!(e.id, "ENR-1:EUSER-1");
    assert_eq!(e.device_id, "ENR-1");
    assert_eq!(e.kind, ChannelKind::UserEnrollmentUser);
    assert_eq!(e.user_id.as_deref(), Some("EUSER-1"));
    assert!(e.is_user_channel());
}

#[test]
fn udid_wins_over_enrollment_id() {
    let e = ids("UDID-1", "ENR-1", "", "")
        .enrollment()
        .expect("enrollment");
    assert_eq!(e.id, "UDID-1");
    assert_eq!(e.kind, ChannelKind::Device);
}

#[test]
fn no_identifier_is_an_error() {
    assert_eq!(
        ChannelIds::default().enrollment(),
        Err(ParseError::MissingIdentifier)
    );
    // Empty strings count as missing, and a user ID alone names no device.
    assert_eq!(
        ids("", "", "USER-1", "").enrollment(),
        Err(ParseError::MissingIdentifier)
    );
}

#[test]
fn control_characters_are_rejected() {
    for (value, field) in [
        (ids("a\nb", "", "", ""), "UDID"),
        (ids("", "a\u{0}b", "", ""), "EnrollmentID"),
        (ids("UDID", "", "u\u{7f}", ""), "UserID"),
        (ids("", "ENR", "", "\u{85}"), "EnrollmentUserID"),
    ] {
        assert_eq!(
            value.enrollment(),
            Err(ParseError::IdControlCharacter { field })
        );
    }
}

#[test]
fn overlong_ids_are_rejected() {
    let at_limit = "a".repeat(MAX_ID_LEN);
    assert!(ids(&at_limit, "", &at_limit, "").enrollment().is_ok());
    let over = "a".repeat(MAX_ID_LEN + 1);
    assert_eq!(
        ids(&over, "", "", "").enrollment(),
        Err(ParseError::IdTooLong {
            field: "UDID",
            len: MAX_ID_LEN + 1,
            max: MAX_ID_LEN
        })
    );
    // Counted in bytes, not characters.
    let wide = "é".repeat(MAX_ID_LEN / 2 + 1);
    assert!(matches!(
        ids("UDID", "", &wide, "").enrollment(),
        Err(ParseError::IdTooLong {
            field: "UserID",
            ..
        })
    ));
}

#[test]
fn device_ids_cannot_contain_the_separator() {
    assert_eq!(
        ids("A:B", "", "", "").enrollment(),
        Err(ParseError::IdSeparator { field: "UDID" })
    );
    assert_eq!(
        ids("", "A:B", "", "").enrollment(),
        Err(ParseError::IdSeparator {
            field: "EnrollmentID"
        })
    );
    // A user ID may: the first ':' still separates device and user.
    assert_eq!(
        ids("A", "", "B:C", "").enrollment().map(|e| e.id),
        Ok("A:B:C".to_owned())
    );
}

#[test]
fn kind_names_are_stable() {
    assert_eq!(ChannelKind::Device.as_str(), "device");
    assert_eq!(ChannelKind::User.as_str(), "user");
    assert_eq!(
        ChannelKind::UserEnrollmentDevice.as_str(),
        "user_enrollment_device"
    );
    assert_eq!(
        ChannelKind::UserEnrollmentUser.as_str(),
        "user_enrollment_user"
    );
}
