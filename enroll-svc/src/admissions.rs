//! What invalidates the edge's cached admissions, told to every edge as it happens.
//!
//! An admission (`Enrollment.Admit`) depends on two facts owned here: the enrollment (its status,
//! bound certificate and generation: changed by Authenticate and CheckOut) and the certificate
//! (revoked or not). Each edge caches positive admissions; to enforce a CheckOut or a revocation
//! made through *another* edge within a second, every change is published here and streamed to
//! every edge by `Enrollment.WatchAdmissions`, with a heartbeat so an edge knows its stream is
//! alive (it stops trusting its cache when the heartbeats stop).
//!
//! On PostgreSQL a change is a `NOTIFY` on [`CHANNEL`], so a change committed by any replica of
//! enroll-svc reaches the edges watching every other replica: each replica `LISTEN`s and relays
//! what it hears. If the listener loses its connection, notifications may have been missed, and
//! the replica tells its watchers to forget everything ([`Event::Reset`]). On SQLite there is one
//! replica, and a change goes straight to its watchers.
//!
//! A change is published after the write that made it has committed, so a watcher that re-asks
//! sees the new state. A replica that crashes between the two leaves edges with an admission that
//! expires with the cache TTL (`services.admission_cache_ms`).

use mdm_proto::v1::{admission_change, AdmissionChange};
use service_kit::db::Db;
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "mdm_admissions";
/// How often a watcher hears that the stream is alive.
pub const HEARTBEAT: Duration = Duration::from_millis(250);
/// Changes buffered per watcher before it is told to reset instead.
const BUFFER: usize = 1024;
/// The wait before a lost database listener is reconnected.
const RELISTEN_AFTER: Duration = Duration::from_millis(500);

/// One change, as watchers receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A device channel Authenticated or checked out (its user channels included).
    Device(String),
    /// A certificate was revoked (SHA-256 of its DER).
    Certificate(Vec<u8>),
    /// Changes may have been missed: forget everything.
    Reset,
}

impl Event {
    /// The NOTIFY payload: `d:<device id>` or `c:<hex SHA-256>`.
    fn payload(&self) -> String {
        match self {
            Event::Device(id) => format!("d:{id}"),
            Event::Certificate(sha256) => format!("c:{}", hex::encode(sha256)),
            Event::Reset => "r:".into(),
        }
    }

    /// A NOTIFY payload; anything unreadable is a reset (forgetting too much is safe).
    fn from_payload(payload: &str) -> Event {
        match payload.split_once(':') {
            Some(("d", id)) if !id.is_empty() => Event::Device(id.to_owned()),
            Some(("c", sha256)) => match hex::decode(sha256) {
                Ok(bytes) if bytes.len() == 32 => Event::Certificate(bytes),
                _ => Event::Reset,
            },
            _ => Event::Reset,
        }
    }

    fn into_proto(self) -> AdmissionChange {
        let change = match self {
            Event::Device(id) => admission_change::Change::DeviceId(id),
            Event::Certificate(sha256) => admission_change::Change::CertSha256(sha256),
            Event::Reset => admission_change::Change::Reset(true),
        };
        AdmissionChange {
            change: Some(change),
        }
    }
}

/// Publishes changes and serves watchers.
#[derive(Debug, Clone)]
pub struct Admissions {
    db: Db,
    watchers: broadcast::Sender<Event>,
}

impl Admissions {
    /// Starts relaying `db`'s notifications (PostgreSQL) to watchers. Must run inside a Tokio
    /// runtime; the relay lives as long as the runtime.
    pub fn start(db: Db) -> Admissions {
        let (watchers, _) = broadcast::channel(BUFFER);
        if let Db::Postgres(pool) = &db {
            tokio::spawn(relay(pool.clone(), watchers.clone()));
        }
        Admissions { db, watchers }
    }

    /// Tells every edge that `event` happened (after its write committed). A failure to notify
    /// is logged, not returned: the write stands, and edges' caches expire on their own.
    pub async fn publish(&self, event: Event) {
        match &self.db {
            Db::Postgres(pool) => {
                let sent = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(event.payload())
                    .execute(pool)
                    .await;
                if let Err(error) = sent {
                    tracing::warn!(%error, ?event, "admission change not announced; edges forget it with their cache TTL");
                }
            }
            Db::Sqlite(_) => {
                // No watcher is no error.
                let _ = self.watchers.send(event);
            }
        }
    }

    /// A stream of changes for one watcher, with heartbeats; it ends when the watcher goes.
    pub fn watch(&self) -> ReceiverStream<Result<AdmissionChange, tonic::Status>> {
        let (out, stream) = mpsc::channel(BUFFER);
        let mut changes = self.watchers.subscribe();
        tokio::spawn(async move {
            let mut heartbeat = tokio::time::interval(HEARTBEAT);
            heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let event = tokio::select! {
                    _ = heartbeat.tick() => None,
                    received = changes.recv() => match received {
                        Ok(event) => Some(event),
                        // Fell behind: what was dropped is unknown.
                        Err(broadcast::error::RecvError::Lagged(_)) => Some(Event::Reset),
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                };
                let message = match event {
                    Some(event) => event.into_proto(),
                    None => AdmissionChange {
                        change: Some(admission_change::Change::Heartbeat(true)),
                    },
                };
                if out.send(Ok(message)).await.is_err() {
                    return;
                }
            }
        });
        ReceiverStream::new(stream)
    }
}

/// LISTENs on [`CHANNEL`] and relays each notification to the watchers, for as long as the
/// runtime lives. Every (re)connection starts with a reset: what happened while no listener was
/// connected is unknown.
async fn relay(pool: sqlx::PgPool, watchers: broadcast::Sender<Event>) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "admission changes: cannot LISTEN; retrying");
                let _ = watchers.send(Event::Reset);
                tokio::time::sleep(RELISTEN_AFTER).await;
                continue;
            }
        };
        let _ = watchers.send(Event::Reset);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let _ = watchers.send(Event::from_payload(notification.payload()));
                }
                // The connection was lost; the next try_recv reconnects.
                Ok(None) => {
                    tracing::warn!("admission changes: listener reconnecting");
                    let _ = watchers.send(Event::Reset);
                }
                Err(error) => {
                    tracing::warn!(%error, "admission changes: listener failed");
                    let _ = watchers.send(Event::Reset);
                    tokio::time::sleep(RELISTEN_AFTER).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn payloads_round_trip_and_garbage_resets() {
        for event in [
            Event::Device("UDID-1".into()),
            Event::Certificate(vec![7; 32]),
            Event::Reset,
        ] {
            assert_eq!(Event::from_payload(&event.payload()), event);
        }
        for garbage in ["", "d:", "c:zz", "c:0102", "x:1", "no colon"] {
            assert_eq!(Event::from_payload(garbage), Event::Reset, "{garbage:?}");
        }
    }
}
