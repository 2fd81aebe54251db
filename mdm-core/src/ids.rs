//! Who a message comes from: [`ChannelIds`] as sent, and the [`EnrollmentRef`] derived from them.
//!
//! An MDM enrollment has a device channel and, on macOS, a user channel per logged-in user. User
//! Enrollment (BYOD) devices hide their UDID and send an `EnrollmentID` instead. The enrollment ID
//! this server keys everything on follows the convention of other open-source MDM servers:
//!
//! | message carries                      | kind                     | enrollment ID                      |
//! |--------------------------------------|--------------------------|------------------------------------|
//! | `UDID`                               | [`ChannelKind::Device`]  | `<UDID>`                           |
//! | `UDID`, `UserID`                     | [`ChannelKind::User`]    | `<UDID>:<UserID>`                  |
//! | `EnrollmentID` (no `UDID`)           | [`ChannelKind::UserEnrollmentDevice`] | `<EnrollmentID>`      |
//! | `EnrollmentID`, `EnrollmentUserID`   | [`ChannelKind::UserEnrollmentUser`]   | `<EnrollmentID>:<EnrollmentUserID>` |
//!
//! `UDID` wins over `EnrollmentID` when both are present, and `UserID` over `EnrollmentUserID`.

use plist::Dictionary;
use serde::{Deserialize, Serialize};

use crate::fields::{lenient_string, opt_string};
use crate::ParseError;

#[cfg(test)]
mod tests;

/// The longest identifier accepted, in bytes. Real ones are 25 to 40 bytes; identifiers become
/// database keys and log fields, so an unbounded one is only a liability.
pub const MAX_ID_LEN: usize = 256;

/// Who a message says it comes from (present on every check-in and report), as sent.
///
/// Empty strings are stored as `None`: devices never send them meaningfully.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChannelIds {
    /// `UDID`: the device's hardware identifier; absent under User Enrollment.
    pub udid: Option<String>,
    /// `EnrollmentID`: the per-enrollment device identifier under User Enrollment.
    pub enrollment_id: Option<String>,
    /// `UserID`: the macOS user's GUID on a user-channel message.
    pub user_id: Option<String>,
    /// `EnrollmentUserID`: the user identifier on a User Enrollment user-channel message.
    pub enrollment_user_id: Option<String>,
    /// `UserShortName`: the macOS account name, for display only.
    pub user_short_name: Option<String>,
    /// `UserLongName`: the macOS full name, for display only.
    pub user_long_name: Option<String>,
}

/// Which channel of an enrollment a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChannelKind {
    /// The device channel of a device identified by UDID.
    Device,
    /// The device channel of a User Enrollment, identified by EnrollmentID.
    UserEnrollmentDevice,
    /// A user channel (macOS) of a device identified by UDID.
    User,
    /// The user channel of a User Enrollment.
    UserEnrollmentUser,
}

/// The enrollment a message belongs to, resolved from its [`ChannelIds`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EnrollmentRef {
    /// The enrollment ID used as the primary key (see the module table).
    pub id: String,
    /// The device-channel ID: the UDID, or the EnrollmentID for User Enrollment. This is what an
    /// identity certificate's CN must equal.
    pub device_id: String,
    /// Which channel the message is on.
    pub kind: ChannelKind,
    /// The UserID or EnrollmentUserID, for user channels.
    pub user_id: Option<String>,
}

impl ChannelKind {
    /// A stable lower-case name, for storage and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelKind::Device => "device",
            ChannelKind::UserEnrollmentDevice => "user_enrollment_device",
            ChannelKind::User => "user",
            ChannelKind::UserEnrollmentUser => "user_enrollment_user",
        }
    }
}

impl EnrollmentRef {
    /// Whether the message is on a user channel rather than the device channel.
    pub fn is_user_channel(&self) -> bool {
        matches!(
            self.kind,
            ChannelKind::User | ChannelKind::UserEnrollmentUser
        )
    }
}

impl ChannelIds {
    /// Reads the identifier keys of a message. Identifiers must be strings; the display names
    /// are read leniently.
    pub(crate) fn from_dict(dict: &Dictionary) -> Result<Self, ParseError> {
        Ok(ChannelIds {
            udid: opt_string(dict, "UDID")?,
            enrollment_id: opt_string(dict, "EnrollmentID")?,
            user_id: opt_string(dict, "UserID")?,
            enrollment_user_id: opt_string(dict, "EnrollmentUserID")?,
            user_short_name: lenient_string(dict, "UserShortName"),
            user_long_name: lenient_string(dict, "UserLongName"),
        })
    }

    /// Resolves the enrollment this message belongs to, by the rules in the module table.
    ///
    /// Fails when neither UDID nor EnrollmentID is present (empty counts as absent), and when any
    /// identifier present is longer than [`MAX_ID_LEN`] bytes or contains a control character,
    /// or a device identifier contains `:` (the separator of user-channel IDs).
    pub fn enrollment(&self) -> Result<EnrollmentRef, ParseError> {
        let udid = present(&self.udid);
        let enrollment_id = present(&self.enrollment_id);
        let user_id = present(&self.user_id);
        let enrollment_user_id = present(&self.enrollment_user_id);

        for (field, value) in [("UDID", udid), ("EnrollmentID", enrollment_id)] {
            if let Some(value) = value {
                check_id(field, value)?;
                if value.contains(':') {
                    return Err(ParseError::IdSeparator { field });
                }
            }
        }
        for (field, value) in [
            ("UserID", user_id),
            ("EnrollmentUserID", enrollment_user_id),
        ] {
            if let Some(value) = value {
                check_id(field, value)?;
            }
        }

        let (device_id, user_enrollment) = match (udid, enrollment_id) {
            (Some(udid), _) => (udid, false),
            (None, Some(enrollment_id)) => (enrollment_id, true),
            (None, None) => return Err(ParseError::MissingIdentifier),
        };
        let user = user_id.or(enrollment_user_id);
        let kind = match (user_enrollment, user.is_some()) {
            (false, false) => ChannelKind::Device,
            (false, true) => ChannelKind::User,
            (true, false) => ChannelKind::UserEnrollmentDevice,
            (true, true) => ChannelKind::UserEnrollmentUser,
        };
        Ok(EnrollmentRef {
            id: match user {
                Some(user) => format!("{device_id}:{user}"),
                None => device_id.to_owned(),
            },
            device_id: device_id.to_owned(),
            kind,
            user_id: user.map(str::to_owned),
        })
    }
}

/// The identifier if present and non-empty.
fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Checks an identifier that will become a key and a log field. Also used for CommandUUID.
pub(crate) fn check_id(field: &'static str, value: &str) -> Result<(), ParseError> {
    if value.len() > MAX_ID_LEN {
        return Err(ParseError::IdTooLong {
            field,
            len: value.len(),
            max: MAX_ID_LEN,
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ParseError::IdControlCharacter { field });
    }
    Ok(())
}
