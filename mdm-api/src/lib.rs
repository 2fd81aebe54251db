//! The admin REST API's documents, written once: admin-svc serves them and mdmctl reads them, so
//! the two cannot drift. Every type carries its OpenAPI schema (`utoipa`), with the constraints
//! a client may rely on (lengths, patterns, `uniqueItems`, enums, exclusive fields as `oneOf`);
//! admin-svc assembles them into the document it serves at `GET /v1/openapi.json`.
//!
//! Conventions, the same on every route:
//! - Times are RFC 3339 strings in UTC; `null` when something has not happened.
//! - Lists are pages ([`Page`]): `items` and an opaque `next_cursor` to pass back as `cursor`,
//!   `null` on the last page.
//! - Failures are RFC 9457 problem documents ([`Problem`], `application/problem+json`).
//! - Creating answers 201 with a `Location` header; state changes are `POST …/{action}`
//!   (`/cancel`, `/revoke`), and what they changed stays readable.
//!
//! # Layout
//! - [`page`]: [`Page`] and the cursor parameters.
//! - [`problem`]: [`Problem`], the error body.
//! - [`scope`]: [`Scope`], what a token may do.
//! - [`devices`]: devices, their inventory, apps and history.
//! - [`commands`]: queueing, reading and cancelling commands.
//! - [`push`]: waking devices, the push certificate.
//! - [`enrollment`]: enrollment tokens and issued certificates.
//! - [`admin_tokens`]: the API's own credentials.
//! - [`audit`]: the audit log.
//! - [`summary`]: the dashboard's counts.
//! - [`diagnostics`]: each service's view of itself, for `mdmctl doctor`.
//! - [`webhooks`]: webhooks, their deliveries, and the events.
//! - [`blueprints`]: commands new devices get when they finish enrolling.
//! - [`declarations`]: Declarative Device Management: declarations, sets, their status.
//! - [`identities`]: identity renewals.
//! - [`micromdm`]: the MicroMDM-compatible webhook body.

pub mod admin_tokens;
pub mod audit;
pub mod blueprints;
pub mod commands;
pub mod declarations;
pub mod devices;
pub mod diagnostics;
pub mod enrollment;
pub mod identities;
pub mod micromdm;
pub mod page;
pub mod problem;
pub mod push;
pub mod scope;
pub mod summary;
pub mod webhooks;

pub use page::{Cursor, Page};
pub use problem::Problem;
pub use scope::Scope;

/// The longest device ID accepted: a user channel's `<device>:<user>` of two 256-byte IDs.
pub const MAX_DEVICE_ID_LEN: usize = 513;

/// Most devices one request may name.
pub const MAX_DEVICES: usize = 100_000;

/// The longest free text accepted (a reason, a description, an idempotency key).
pub const MAX_TEXT_LEN: usize = 1024;

/// No control characters, at least one character: the pattern of IDs and names.
pub const NO_CONTROL_PATTERN: &str = r"^[^\x00-\x1F\x7F]+$";
