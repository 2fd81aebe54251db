//! The gRPC contract between the edge (`proxy`) and the services, compiled from `proto/` with
//! `protox` (no `protoc` needed), and the one mapping between the shared error codes, gRPC
//! status codes and HTTP status codes.
//!
//! # Layout
//! - [`v1`]: generated messages, clients and servers (`mdm.v1` package).
//! - [`error`]: [`ErrorCode`], how a service states *why* a call failed so that the edge can
//!   answer the device with exactly the HTTP status DESIGN.md §4 asks for.

pub mod error;

pub use error::{code_of, status, ErrorCode};
pub use tonic;

/// Generated code for the `mdm.v1` package.
#[allow(missing_docs, clippy::all, clippy::unwrap_used)]
pub mod v1 {
    tonic::include_proto!("mdm.v1");
}
