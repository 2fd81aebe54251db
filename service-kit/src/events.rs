//! The transactional outbox of a service that emits events (docs/events.md).
//!
//! An event is a row of the service's own `event_outbox` table, written by the transaction (or the
//! statement) that makes the change it describes: a crash can neither lose it nor leave one for a
//! change that did not commit. [`Outbox`] serves `mdm.v1.Events` over that table: admin-svc's
//! dispatcher pulls the oldest rows, stores them, and acknowledges them, which deletes them. A row
//! stays until acknowledged, so delivery to admin-svc is at least once; the row's `id` (a UUID
//! its database makes at insert) tells repeats apart.
//!
//! The table is the same in every service (each service's migrations create it):
//! `position` (increasing), `id`, `type`, `occurred_at` (Unix ms), `enrollment_id`,
//! `command_uuid`, `status`, `raw` (what the device sent) and `attributes` (a JSON object).

use crate::db::Db;
use crate::with_db;
use mdm_proto::v1::events_server::{Events, EventsServer};
use mdm_proto::v1::{
    AckEventsRequest, AckEventsResponse, Event, PullEventsRequest, PullEventsResponse,
};
use mdm_proto::ErrorCode;
use tonic::{Request, Response, Status};

/// Events pulled at once when the caller names no limit, and the most it may name.
const DEFAULT_PULL: u32 = 500;
const MAX_PULL: u32 = 1000;

/// Appends one event: `$1` type, `$2` occurred at, `$3` enrollment, `$4` CommandUUID, `$5`
/// status, `$6` raw payload, `$7` attributes.
pub const INSERT_EVENT: &str = "INSERT INTO event_outbox
        (type, occurred_at, enrollment_id, command_uuid, status, raw, attributes)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// What the plain pull reads: the row as it was written.
const PULL_PLAIN: &str = "SELECT position, id, type, occurred_at, enrollment_id, command_uuid,
        NULL AS request_type, status, raw, attributes
     FROM event_outbox ORDER BY position LIMIT $1";

/// An event to write in the transaction of the change it describes.
#[derive(Debug, Clone, Default)]
pub struct NewEvent<'a> {
    /// Its type (`enrollment.authenticated`, `push.failed`, ...).
    pub kind: &'a str,
    /// The enrollment it concerns (empty: fleet-wide).
    pub enrollment_id: &'a str,
    /// The command, for command events.
    pub command_uuid: Option<&'a str>,
    /// The status the device or the server gave.
    pub status: Option<&'a str>,
    /// What the device sent, as it sent it.
    pub raw: Option<&'a [u8]>,
    /// Anything else, as a JSON object.
    pub attributes: Option<serde_json::Value>,
}

impl NewEvent<'_> {
    /// Writes the event at `at` (Unix ms) with `executor`: the transaction of the change.
    pub async fn write<'e, DB, E>(&self, executor: E, at: i64) -> Result<(), sqlx::Error>
    where
        DB: sqlx::Database,
        E: sqlx::Executor<'e, Database = DB>,
        for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        sqlx::query(INSERT_EVENT)
            .bind(self.kind.to_owned())
            .bind(at)
            .bind(self.enrollment_id.to_owned())
            .bind(self.command_uuid.map(str::to_owned))
            .bind(self.status.map(str::to_owned))
            .bind(self.raw.map(<[u8]>::to_vec))
            .bind(self.attributes.as_ref().map(|a| a.to_string()))
            .execute(executor)
            .await
            .map(|_| ())
    }
}

/// One outbox row as pulled.
#[derive(Debug, Clone, sqlx::FromRow)]
struct OutboxRow {
    position: i64,
    id: String,
    #[sqlx(rename = "type")]
    kind: String,
    occurred_at: i64,
    enrollment_id: String,
    command_uuid: Option<String>,
    request_type: Option<String>,
    status: Option<String>,
    raw: Option<Vec<u8>>,
    attributes: Option<String>,
}

impl From<OutboxRow> for Event {
    fn from(row: OutboxRow) -> Event {
        Event {
            position: row.position,
            id: row.id,
            r#type: row.kind,
            occurred_at_ms: row.occurred_at,
            enrollment_id: row.enrollment_id,
            command_uuid: row.command_uuid.unwrap_or_default(),
            request_type: row.request_type.unwrap_or_default(),
            status: row.status.unwrap_or_default(),
            raw_payload: row.raw.unwrap_or_default(),
            attributes_json: row.attributes.unwrap_or_default(),
        }
    }
}

/// A service's outbox, read and acknowledged through `mdm.v1.Events`.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Db,
    pull: &'static str,
}

impl Outbox {
    /// The outbox in `db`, pulled as written.
    pub fn new(db: Db) -> Outbox {
        Outbox {
            db,
            pull: PULL_PLAIN,
        }
    }

    /// The outbox in `db`, pulled with `query` (`$1` the limit), which returns the columns of
    /// the plain pull in the same order: a service that keeps a large payload elsewhere once
    /// (command-svc's results) joins it here instead of writing it twice.
    pub fn with_pull_query(db: Db, query: &'static str) -> Outbox {
        Outbox { db, pull: query }
    }

    /// The oldest `limit` events.
    pub async fn pull(&self, limit: u32) -> Result<Vec<Event>, sqlx::Error> {
        let limit = i64::from(limit.clamp(1, MAX_PULL));
        let rows: Vec<OutboxRow> = with_db!(&self.db, pool => sqlx::query_as(self.pull)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(Event::from).collect())
    }

    /// Deletes the events at `positions`, in one statement.
    pub async fn ack(&self, positions: &[i64]) -> Result<u64, sqlx::Error> {
        if positions.is_empty() {
            return Ok(0);
        }
        with_db!(&self.db, pool => {
            let mut delete = sqlx::QueryBuilder::new("DELETE FROM event_outbox WHERE position IN (");
            let mut list = delete.separated(", ");
            for position in positions.iter().take(MAX_PULL as usize) {
                list.push_bind(*position);
            }
            delete.push(")");
            delete.build().execute(pool).await.map(|done| done.rows_affected())
        })
    }

    /// The gRPC service over this outbox.
    pub fn server(self) -> EventsServer<Outbox> {
        EventsServer::new(self)
            .max_decoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(mdm_proto::clients::MAX_MESSAGE_BYTES)
    }
}

/// A database fault as the caller sees it: retry later (never a caller's mistake).
fn unavailable(error: &sqlx::Error) -> Status {
    let code = if crate::db::is_transient(error) {
        ErrorCode::Unavailable
    } else {
        ErrorCode::Internal
    };
    mdm_proto::status(code, format!("event outbox: {error}"))
}

#[tonic::async_trait]
impl Events for Outbox {
    async fn pull_events(
        &self,
        request: Request<PullEventsRequest>,
    ) -> Result<Response<PullEventsResponse>, Status> {
        let limit = match request.into_inner().limit {
            0 => DEFAULT_PULL,
            n => n,
        };
        let events = self.pull(limit).await.map_err(|e| unavailable(&e))?;
        Ok(Response::new(PullEventsResponse { events }))
    }

    async fn ack_events(
        &self,
        request: Request<AckEventsRequest>,
    ) -> Result<Response<AckEventsResponse>, Status> {
        let positions = request.into_inner().positions;
        if positions.len() > MAX_PULL as usize {
            return Err(mdm_proto::status(
                ErrorCode::InvalidMessage,
                format!("at most {MAX_PULL} positions per call"),
            ));
        }
        self.ack(&positions).await.map_err(|e| unavailable(&e))?;
        Ok(Response::new(AckEventsResponse {}))
    }
}
