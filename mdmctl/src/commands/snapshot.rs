//! A command with its deliveries, as `commands show` and `commands send --wait` print it. The
//! API serves the two apart: `GET /v1/commands/{uuid}` counts the deliveries per status, and
//! `GET /v1/commands/{uuid}/deliveries` lists them page by page. `-o json` prints both as sent,
//! as `{"command": {...}, "deliveries": [...]}`.

use super::results;
use super::wait::Tally;
use crate::client::{Answer, Api, ApiError, Listing, Span};
use mdm_api::commands::{Command, DeliveryQuery, DeliveryStatus};
use mdm_api::devices::Delivery;
use serde_json::{json, Value};

/// How many queued deliveries are read to count the NotNow ones when the listing did not
/// already hold them all.
const NOT_NOW_SCAN: usize = 1000;

/// A command, its deliveries (as many as were asked for), and where they stand.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The command, with `status_counts`.
    pub command: Answer<Command>,
    /// The deliveries listed, in enrollment-ID order.
    pub deliveries: Listing<Delivery>,
    /// The counts, NotNow included.
    pub tally: Tally,
    /// The status the listing was limited to.
    pub status: Option<DeliveryStatus>,
}

impl Snapshot {
    /// Reads `uuid` and its first `listed` deliveries (of `status`, if given).
    pub async fn read(
        api: &Api,
        uuid: &str,
        status: Option<DeliveryStatus>,
        listed: usize,
    ) -> Result<Snapshot, ApiError> {
        let command = api.command(uuid).await?;
        let query = DeliveryQuery {
            status,
            ..DeliveryQuery::default()
        };
        let deliveries = api.deliveries(uuid, &query, Span::first(listed)).await?;
        let queued = Tally::of(&command.value, None).queued;
        let holds_every_queued =
            !deliveries.more && matches!(status, None | Some(DeliveryStatus::Queued));
        let not_now = if queued == 0 {
            0
        } else if holds_every_queued {
            not_now(&deliveries.items)
        } else {
            let query = DeliveryQuery {
                status: Some(DeliveryStatus::Queued),
                ..DeliveryQuery::default()
            };
            let queued = api
                .deliveries(uuid, &query, Span::first(NOT_NOW_SCAN))
                .await?;
            not_now(&queued.items)
        };
        Ok(Snapshot {
            tally: Tally::of(&command.value, Some(not_now)),
            command,
            deliveries,
            status,
        })
    }

    /// `{"command": ..., "deliveries": [...]}`, each as the server sent it.
    pub fn json(&self) -> Value {
        json!({"command": self.command.json, "deliveries": self.deliveries.json})
    }

    /// A block per listed delivery with its result, a note when not every one is listed, and
    /// the tally.
    pub fn results(&self) -> String {
        let mut text =
            results::deliveries(&self.command.value.request_type, &self.deliveries.items);
        if self.deliveries.more {
            let of = match self.status {
                None => self.tally.total(),
                Some(status) => self
                    .command
                    .value
                    .status_counts
                    .get(status.as_str())
                    .copied()
                    .map_or(0, u64::from),
            };
            text.push_str(&format!(
                "(the first {} of {of} devices; `commands show --limit N` lists more)\n",
                self.deliveries.len()
            ));
        }
        text.push_str(&format!("{}\n", self.tally));
        text
    }
}

/// Queued deliveries whose device answered NotNow.
fn not_now(deliveries: &[Delivery]) -> u64 {
    let n = deliveries
        .iter()
        .filter(|d| d.status == DeliveryStatus::Queued && d.not_now_count > 0)
        .count();
    u64::try_from(n).unwrap_or(u64::MAX)
}
