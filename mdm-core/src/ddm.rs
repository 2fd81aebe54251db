//! Declarative Device Management (DDM), the protocol's data without I/O: declarations checked
//! against Apple's declarative schema ([`check_declaration`]) with a `ServerToken` that changes
//! exactly when their content does; the documents a device fetches while it syncs (`tokens`,
//! `declaration-items`, one declaration) and the `DeclarativeManagement` command that makes it
//! sync ([`manifest`]); the `DeclarativeManagement` check-in that asks for them
//! ([`parse_declarative_checkin`]); and the status reports it sends ([`parse_status_report`]).
//!
//! A device syncs by asking for the `tokens` (one `DeclarationsToken` over everything it should
//! hold), then, when that token changed, the `declaration-items` manifest (each declaration's
//! `Identifier` and `ServerToken`, by category), then each declaration whose `ServerToken` it does
//! not hold; it applies what its activations' predicates select and reports, by itself, each
//! declaration's state and the status items it was asked to watch.

pub mod checkin;
pub mod declaration;
pub mod manifest;
pub mod status;

pub use checkin::{parse_declarative_checkin, DeclarativeCheckin, Endpoint};
pub use declaration::{check_declaration, Category, Declaration, DeclarationError};
pub use manifest::{declaration_items, declarations_token, sync_command, tokens};
pub use status::{parse_status_report, DeclarationStatus, Reason, StatusError, StatusReport};
