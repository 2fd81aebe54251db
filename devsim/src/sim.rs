//! Simulated devices (docs/architecture.md §9): each with its own key pair, UDID, Token and PushMagic, that
//! enroll, wait to be woken, fetch and answer commands like a real device, and report what they
//! measured.
//!
//! - [`ddm`]: Declarative Device Management on the device: sync, apply, status reports.
//! - [`device`]: one device on the network (mTLS or Mdm-Signature).
//! - [`enroll`]: the real enrollment flows (OTA, direct profile) that give a device its identity.
//! - [`fleet`]: many devices made and enrolled together, Macs with user channels among them.
//! - [`load`]: sessions on every device, closed-loop or at a fixed rate.
//! - [`responder`]: what a device answers to each command, shaped like the real captures.
//! - [`stats`]: latency per message type, as a table or JSON.

pub mod ddm;
pub mod device;
pub mod enroll;
pub mod fleet;
pub mod load;
pub mod responder;
pub mod stats;

pub use ddm::{DdmSync, HeldDeclaration, SyncTokens, Validity};
pub use device::{Behaviour, Handled, SimConfig, SimDevice, SimError, SimUser, Transport};
pub use enroll::{enroll, Enrolled, EnrollmentError, EnrollmentFlow, EnrollmentServer};
pub use responder::{DeviceFacts, DeviceState};
pub use stats::{Stats, Summary};
