//! Declarative Device Management on the device's side: a simulated device syncs its
//! declarations when a `DeclarativeManagement` command tells it to, applies them as a real device
//! would (activations and their predicates select configurations; what fails Apple's schema is
//! invalid), and reports their state in status reports the server reads with
//! `mdm_core::ddm::parse_status_report`.
//!
//! The exchange goes through a [`DdmLink`], so the whole sync runs against an in-process fake as
//! well as against the server ([`crate::sim::SimDevice::ddm_sync`]).
//!
//! - [`checkin`]: the `DeclarativeManagement` check-in body of each request.
//! - [`documents`]: the server's answers (tokens, manifest, declaration), read strictly.
//! - [`held`]: a declaration on the device and its state.
//! - [`predicate`]: activation predicates, parsed and evaluated.
//! - `apply`: every declaration's state from the activations and the device's status.
//! - `status_items`, `report`: the device's status items and the reports carrying them.
//! - `sync`: the steps of a sync, over a [`DdmLink`].

mod apply;
pub mod checkin;
pub mod documents;
pub mod held;
pub mod predicate;
mod report;
mod status_items;
mod sync;
#[cfg(test)]
mod tests;

pub use checkin::checkin_body;
pub use documents::{SyncTokens, MAX_ITEMS};
pub use held::{HeldDeclaration, Validity};
pub use sync::{DdmLink, DdmSync, MAX_ANSWER_BYTES, MAX_SYNC_BYTES};

use serde_json::Value as Json;
use std::collections::BTreeMap;

/// What a device (or one user channel) holds of Declarative Device Management between syncs.
#[derive(Debug, Clone, Default)]
pub struct DdmState {
    /// Declarations by identifier.
    held: BTreeMap<String, HeldDeclaration>,
    /// The `DeclarationsToken` of the manifest the device last synced.
    declarations_token: Option<String>,
    /// Each status item as last delivered to the server, so that later reports carry changes.
    reported: BTreeMap<String, Json>,
    /// Whether a full report was delivered (the first sync sends one).
    full_report_sent: bool,
}

impl DdmState {
    /// The declarations held, by category then identifier.
    pub fn declarations(&self) -> Vec<HeldDeclaration> {
        let mut all: Vec<HeldDeclaration> = self.held.values().cloned().collect();
        all.sort_by(|a, b| (a.category, &a.identifier).cmp(&(b.category, &b.identifier)));
        all
    }

    /// The `DeclarationsToken` last synced, if any.
    pub fn declarations_token(&self) -> Option<&str> {
        self.declarations_token.as_deref()
    }

    /// Whether the device delivered its full status report.
    pub fn full_report_sent(&self) -> bool {
        self.full_report_sent
    }
}
