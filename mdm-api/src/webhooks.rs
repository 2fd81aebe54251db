//! `/v1/webhooks` and `/v1/events`: endpoints the services' events are posted to (`webhooks`
//! scope), their deliveries and dead letters, and the events as stored (`read` scope).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// Our JSON ([`Event`]): every event type.
    Mdm,
    /// MicroMDM's, as NanoMDM also sends it (`topic`, `checkin_event`, `acknowledge_event`):
    /// check-ins and command answers only.
    Micromdm,
}

impl WebhookFormat {
    /// The name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Mdm => "mdm",
            WebhookFormat::Micromdm => "micromdm",
        }
    }

    /// The format named `name` in the database.
    pub fn from_name(name: &str) -> Option<WebhookFormat> {
        [WebhookFormat::Mdm, WebhookFormat::Micromdm]
            .into_iter()
            .find(|f| f.as_str() == name)
    }
}

/// The body of `POST /v1/webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where events are posted (http or https; redirects are not followed).
    #[schema(
        min_length = 8,
        max_length = 2048,
        pattern = "^[hH][tT][tT][pP][sS]?://[^\\s]+$"
    )]
    pub url: String,
    /// Which events: `*` (the default), a family (`command.*`) or types
    /// (`enrollment.authenticated`).
    #[schema(min_items = 1, max_items = 50)]
    pub events: Option<Vec<EventPattern>>,
    /// The body (default `mdm`).
    pub format: Option<WebhookFormat>,
    /// What it is for.
    #[schema(max_length = 256, pattern = r"^[^\x00-\x1F\x7F]*$")]
    pub description: Option<String>,
    /// The HMAC-SHA256 key the receiver verifies `Mdm-Signature` with; made for you when
    /// absent (and shown in this answer only).
    #[schema(min_length = 16, max_length = 256, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub secret: Option<String>,
    /// Whether events are delivered (default true).
    pub enabled: Option<bool>,
}

/// An event type pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(
    min_length = 1,
    max_length = 64,
    pattern = r"^(\*|[a-z_]+\.(\*|[a-z_]+))$"
)]
pub struct EventPattern(pub String);

/// The body of `PATCH /v1/webhooks/{id}`: what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    /// A new URL.
    #[schema(
        min_length = 8,
        max_length = 2048,
        pattern = "^[hH][tT][tT][pP][sS]?://[^\\s]+$"
    )]
    pub url: Option<String>,
    /// New event patterns.
    #[schema(min_items = 1, max_items = 50)]
    pub events: Option<Vec<EventPattern>>,
    /// A new body format.
    pub format: Option<WebhookFormat>,
    /// A new description.
    #[schema(max_length = 256, pattern = r"^[^\x00-\x1F\x7F]*$")]
    pub description: Option<String>,
    /// Pause (false) or resume (true) deliveries; resuming retries at once.
    pub enabled: Option<bool>,
}

/// A webhook (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    /// Its ID.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// What it is for.
    pub description: String,
    /// Which events.
    pub events: Vec<String>,
    /// The body.
    pub format: WebhookFormat,
    /// Whether events are delivered.
    pub enabled: bool,
    /// Who registered it.
    pub created_by: String,
    /// When.
    pub created_at: Option<String>,
    /// Deliveries waiting.
    pub pending: i64,
    /// Deliveries given up on: replay them with `POST /v1/webhooks/{id}/replay`.
    pub dead: i64,
    /// When the oldest waiting event was received: how far behind the endpoint is.
    pub oldest_pending_at: Option<String>,
    /// Failed rounds in a row; the endpoint is not tried before `retry_at`.
    pub consecutive_failures: i64,
    /// When the endpoint is tried again, if it is failing.
    pub retry_at: Option<String>,
    /// The last delivery that got through.
    pub last_success_at: Option<String>,
    /// The last failure, and what it was.
    pub last_failure_at: Option<String>,
    /// What went wrong last.
    pub last_error: Option<String>,
}

/// A webhook just registered, or its secret just replaced: the only time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// The HMAC-SHA256 key of `Mdm-Signature`.
    pub secret: String,
}

/// The state of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting (perhaps retried).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up on after the configured attempts: replayable.
    Dead,
}

impl DeliveryState {
    /// The name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    /// The state named `name` in the database.
    pub fn from_name(name: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Dead,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One event's delivery to one webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    /// Its ID.
    pub id: i64,
    /// The event's ID.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The enrollment.
    pub device: String,
    /// Where it stands.
    pub status: DeliveryState,
    /// Attempts so far.
    pub attempts: i64,
    /// The next attempt, while pending.
    pub next_attempt_at: Option<String>,
    /// The last attempt.
    pub last_attempt_at: Option<String>,
    /// The receiver's last HTTP status.
    pub response_status: Option<i64>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// When it was delivered or given up on.
    pub completed_at: Option<String>,
}

/// The parameters of `GET /v1/webhooks/{id}/deliveries`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this state.
    pub status: Option<DeliveryState>,
    /// Where to continue: a previous page's `next_cursor`.
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// The body of `POST /v1/webhooks/{id}/replay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The dead deliveries to send again; every dead one when absent.
    #[schema(min_items = 1, max_items = 1000)]
    pub deliveries: Option<Vec<i64>>,
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Replayed {
    /// Dead deliveries put back in line.
    pub replayed: u64,
}

/// An event, as webhooks of format `mdm` receive it and `GET /v1/events` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Stable: the same event delivered twice has the same ID.
    pub id: String,
    /// `enrollment.authenticated`, `command.acknowledged`, `push.failed`, ... (docs/events.md).
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub occurred_at: Option<String>,
    /// The service that emitted it.
    pub source: String,
    /// The enrollment (empty for fleet-wide events).
    pub enrollment_id: String,
    /// The type's fields; `raw_payload` is what the device sent (base64), `error_chain` a
    /// command error's ErrorChain.
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
}

/// The parameters of `GET /v1/events`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only this enrollment's events.
    #[param(min_length = 1, max_length = 513, pattern = r"^[^\x00-\x1F\x7F]+$")]
    pub device: Option<String>,
    /// Only events of this type.
    #[param(min_length = 1, max_length = 64, pattern = r"^[a-z_]+\.[a-z_]+$")]
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Where to continue: a previous page's `next_cursor` (oldest first).
    #[param(min_length = 1, max_length = 1024)]
    pub cursor: Option<String>,
    /// Items per page (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}
