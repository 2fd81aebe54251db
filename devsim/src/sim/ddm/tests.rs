//! The device's side of Declarative Device Management against an in-process server
//! ([`fake::FakeServer`], built on the server's own documents from `mdm_core::ddm`): what it
//! fetches, what it makes of the declarations, and the reports and check-ins it sends, each read
//! back with the server's parsers.

mod apply;
mod fake;
mod reports;
mod sync;
