//! `devsim` is where the MDM server meets the devices it serves: simulated iPhones and Macs that
//! enroll (OTA, direct profile or preissued certificates), check in, answer commands and wake on
//! push, and the load generator built on them (docs/architecture.md §9). The mock APNs the
//! devices' pushes go through is its own crate, `mock-apns`; devices follow its push feed.
//!
//! # Layout
//! - [`admin`]: [`admin::AdminApi`], the simulator's client of admin-svc's REST API (queue
//!   commands, make enrollment tokens, read commands, their deliveries page by page, devices).
//! - [`sim`]: simulated devices and their measurements.

pub mod admin;
pub mod sim;
