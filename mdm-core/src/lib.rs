//! The Apple MDM wire model, with no I/O: turns the plist bodies devices send into typed
//! check-in messages and command reports, and resolves who sent them into an enrollment ID.
//! Every service that reads a device's request goes through this crate, so it is the one place
//! that decides what a valid message is. Input is untrusted: nothing here panics on it, recursion
//! is bounded, and work is linear in the body size.
//!
//! # Modules
//! - [`decode`]: bytes to a [`plist::Value`] (XML or binary), with depth and expansion limits and
//!   tolerance for the `<data>` padding real devices send.
//! - [`message`]: [`parse_message`], which tells check-ins from command reports.
//! - [`checkin`]: [`CheckinMessage`] and its six kinds, [`parse_checkin`], and
//!   [`bootstrap_token_response`].
//! - [`report`]: [`CommandReport`], [`CommandStatus`], [`ErrorChainItem`], [`parse_report`].
//! - [`ids`]: [`ChannelIds`] as sent and the [`EnrollmentRef`] derived from them.
//! - [`catalogue`]: every request type of Apple's schema, and [`catalogue::check_command`].
//! - [`ddm`]: Declarative Device Management: declarations, the sync documents, status reports.
//! - [`commands`]: the commands an administrator queues: [`CommandSpec`] (typed JSON),
//!   [`command_from_json`] and [`parse_command_plist`] (any request type), and
//!   [`render_command`], which builds the plist a device receives.
//! - [`json`]: [`plist_to_json`] and [`report_to_json`], command results for the admin API.
//! - [`inventory`]: what an acknowledged result says about the device ([`InventoryUpdate`]).
//! - [`error`]: [`ParseError`], the error of everything that parses a body, and the shortening of
//!   untrusted text quoted in errors.
//! - `fields` (private): the typed-field policy shared by all messages.
//!
//! Certificates and cryptography (`Mdm-Signature`, the device trust check, SCEP, signed and
//! encrypted profiles) are in the `mdm-pki` crate, which builds on this one; nothing here depends
//! on OpenSSL or a certificate parser.

#![warn(missing_docs)]

pub mod catalogue;
pub mod checkin;
pub mod commands;
pub mod ddm;
pub mod decode;
pub mod error;
mod fields;
pub mod ids;
pub mod inventory;
pub mod json;
pub mod message;
pub mod report;

pub use checkin::{
    bootstrap_token_response, parse_checkin, Authenticate, CheckOut, CheckinMessage,
    GetBootstrapToken, SetBootstrapToken, TokenUpdate, UserAuthenticate,
};
pub use commands::{
    command_from_json, is_destructive, parse_command_plist, parse_full_command, render_command,
    request_type_of, with_unlock_token, Base64Bytes, CommandSpec, DESTRUCTIVE_REQUEST_TYPES,
};
pub use decode::{parse_plist_value, MAX_DEPTH};
pub use error::ParseError;
pub use ids::{ChannelIds, ChannelKind, EnrollmentRef, MAX_ID_LEN};
pub use inventory::{InstalledApp, InventoryUpdate};
pub use json::{plist_to_json, report_to_json};
pub use message::{parse_message, Message};
pub use report::{check_command_uuid, parse_report, CommandReport, CommandStatus, ErrorChainItem};
