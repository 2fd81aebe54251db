//! Webhooks and their deliveries as text (`webhooks show` prints every field:
//! [`crate::record`]).

use crate::table::Table;
use mdm_api::webhooks::{CreatedWebhook, Replayed, Webhook, WebhookDelivery};

/// The fields `webhooks show` puts first: where it posts, what, and how far behind it is.
pub const SHOWN_FIRST: &[&str] = &[
    "id",
    "url",
    "enabled",
    "events",
    "format",
    "description",
    "pending",
    "dead",
    "oldest_pending_at",
    "consecutive_failures",
    "retry_at",
    "last_error",
    "last_failure_at",
    "last_success_at",
];

/// A webhook just registered, or its secret just replaced, as `field value` rows, the secret
/// included.
pub fn created(created: &CreatedWebhook) -> Table {
    let w = &created.webhook;
    let mut table = Table::without_header();
    let mut field = |name: &str, value: String| table.row([name.to_owned(), value]);
    field("id", w.id.clone());
    field("url", w.url.clone());
    field("events", w.events.join(","));
    field("format", w.format.as_str().to_owned());
    field("state", state(w).to_owned());
    field("description", w.description.clone());
    field("secret", created.secret.clone());
    table
}

/// Whether deliveries go out: paused by an administrator, failing (retried later), or fine.
pub fn state(w: &Webhook) -> &'static str {
    if !w.enabled {
        "disabled"
    } else if w.consecutive_failures > 0 {
        "failing"
    } else {
        "enabled"
    }
}

/// One row per webhook, with its backlog.
pub fn list(webhooks: &[Webhook]) -> Table {
    let mut table = Table::new([
        "ID",
        "URL",
        "STATE",
        "EVENTS",
        "FORMAT",
        "PENDING",
        "DEAD",
        "LAST ERROR",
    ]);
    for w in webhooks {
        table.row([
            w.id.clone(),
            w.url.clone(),
            state(w).to_owned(),
            w.events.join(","),
            w.format.as_str().to_owned(),
            w.pending.to_string(),
            w.dead.to_string(),
            w.last_error.clone().unwrap_or_default(),
        ]);
    }
    table
}

/// What `webhooks update` changed the webhook to, in one line.
pub fn updated(w: &Webhook) -> String {
    format!(
        "updated webhook {}: {} {} ({}, {})",
        w.id,
        state(w),
        w.url,
        w.events.join(","),
        w.format.as_str()
    )
}

/// What `webhooks replay` did.
pub fn replayed(id: &str, replayed: &Replayed) -> String {
    match replayed.replayed {
        0 => format!("webhook {id}: no dead delivery to replay"),
        1 => format!("webhook {id}: 1 dead delivery replayed"),
        n => format!("webhook {id}: {n} dead deliveries replayed"),
    }
}

/// One row per delivery: where it stands, and what the receiver said last.
pub fn deliveries(deliveries: &[WebhookDelivery]) -> Table {
    let mut table = Table::new([
        "ID",
        "STATUS",
        "EVENT",
        "DEVICE",
        "ATTEMPTS",
        "HTTP",
        "NEXT ATTEMPT",
        "COMPLETED",
        "LAST ERROR",
    ]);
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    for d in deliveries {
        table.row([
            d.id.to_string(),
            d.status.as_str().to_owned(),
            d.event_type.clone(),
            d.device.clone(),
            d.attempts.to_string(),
            d.response_status.map(|s| s.to_string()).unwrap_or_default(),
            or_empty(&d.next_attempt_at),
            or_empty(&d.completed_at),
            or_empty(&d.last_error),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::webhooks::{DeliveryState, WebhookFormat};

    fn webhook(enabled: bool, consecutive_failures: i64) -> Webhook {
        Webhook {
            id: "W1".into(),
            url: "https://hooks.example/mdm".into(),
            description: String::new(),
            events: vec!["command.*".into(), "enrollment.*".into()],
            format: WebhookFormat::Mdm,
            enabled,
            created_by: "ops".into(),
            created_at: None,
            pending: 3,
            dead: 1,
            oldest_pending_at: None,
            consecutive_failures,
            retry_at: None,
            last_success_at: None,
            last_failure_at: None,
            last_error: (consecutive_failures > 0).then(|| "HTTP 502".into()),
        }
    }

    #[test]
    fn a_row_shows_the_state_and_the_backlog() {
        assert_eq!(state(&webhook(false, 4)), "disabled");
        assert_eq!(state(&webhook(true, 4)), "failing");
        assert_eq!(state(&webhook(true, 0)), "enabled");
        let text = list(&[webhook(true, 2)]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("W1  https://hooks.example/mdm  failing  command.*,enrollment.*  mdm     3        1     HTTP 502")
        );
    }

    #[test]
    fn the_secret_is_a_row_of_a_created_webhook() {
        let text = created(&CreatedWebhook {
            webhook: webhook(true, 0),
            secret: "whsec_abc".into(),
        })
        .to_string();
        assert!(
            text.lines().any(|l| l == "secret       whsec_abc"),
            "{text}"
        );
    }

    #[test]
    fn deliveries_say_when_and_why() {
        let delivery = WebhookDelivery {
            id: 7,
            event_id: "E1".into(),
            event_type: "command.acknowledged".into(),
            device: "UDID-1".into(),
            status: DeliveryState::Pending,
            attempts: 2,
            next_attempt_at: Some("2026-11-21T12:00:00Z".into()),
            last_attempt_at: None,
            response_status: Some(503),
            last_error: Some("HTTP 503".into()),
            completed_at: None,
        };
        let text = deliveries(&[delivery]).to_string();
        assert_eq!(
            text.lines().nth(1),
            Some("7   pending  command.acknowledged  UDID-1  2         503   2026-11-21T12:00:00Z  -          HTTP 503")
        );
        assert_eq!(
            replayed("W1", &Replayed { replayed: 2 }),
            "webhook W1: 2 dead deliveries replayed"
        );
    }
}
