//! The gRPC contract between the edge (`proxy`) and the services, compiled from `proto/` with
//! `protox` (no `protoc` needed), and the one mapping between the shared error codes, gRPC
//! status codes and HTTP status codes.
//!
//! # Layout
//! - [`v1`]: generated messages, clients and servers (`mdm.v1` package).
//! - [`error`]: [`ErrorCode`], how a service states *why* a call failed so that the edge can
//!   answer the device with exactly the HTTP status docs/architecture.md §4 asks for.
//! - [`clients`]: a client of each service, with the agreed message-size limit.
//! - [`identity`]: the verified device identity as validated types ([`VerifiedIdentity`]).
//! - [`page`]: the paging convention of the listing RPCs.
//! - [`inventory`]: inventory updates between their wire form and `mdm_core`'s.
//! - [`report`]: a command report as the edge read it ([`report::ReportFacts`]).

pub mod clients;
pub mod error;
pub mod identity;
pub mod inventory;
pub mod page;
pub mod report;

pub use error::{bounded, code_of, status, ErrorCode, MAX_STATUS_MESSAGE};
pub use identity::{CertSha256, DeviceId, EnrollmentId, IdentityError, VerifiedIdentity};
pub use page::page_limit;
pub use tonic;

/// Generated code for the `mdm.v1` package.
#[allow(missing_docs, clippy::all, clippy::unwrap_used)]
pub mod v1 {
    tonic::include_proto!("mdm.v1");
}
