//! Enrollment storage on SQLite or PostgreSQL (one implementation, see `service_kit::with_db!`).
//!
//! Every state change is one conditional statement, or a short transaction, whose `WHERE` clause
//! carries the authorization (status and bound certificate): a check and the write it guards
//! cannot be separated by another request. When nothing matched, [`EnrollmentStore::diagnose`]
//! finds out why, off the hot path.

mod approvals;
mod audit;
mod authenticate;
mod counts;
mod identities;
mod inventory;
mod listing;
mod migration;
mod record;
mod renewal;

pub use approvals::Approval;
pub use audit::{AuditEntry, AuditQuery, NewAuditEntry};
pub use authenticate::{AuthenticateOutcome, Authenticated, Authentication, Proof};
pub use counts::EnrollmentCounts;
pub use inventory::{AppRow, InventoryReport};
pub use listing::{DeviceFilter, DeviceOrder};
pub use record::{ChannelKind, DeviceFacts, EnrollmentRecord, EnrollmentStatus, Inventory};

use crate::error::Error;
use service_kit::db::{BeginWrite, Db};
use service_kit::events::NewEvent;
use service_kit::{now_ms, with_db};

/// The migrations of each engine, run at start; the diagnosis compares them with what the
/// database records.
pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// See [`SQLITE_MIGRATIONS`].
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What a TokenUpdate carries, the UnlockToken already sealed.
#[derive(Debug, Clone)]
pub struct TokenUpdateRecord<'a> {
    /// The enrollment (device or user channel).
    pub id: &'a str,
    /// Its device channel.
    pub device_id: &'a str,
    /// The channel kind of `id`.
    pub channel: ChannelKind,
    /// UserID / EnrollmentUserID and names, for user channels.
    pub user_id: Option<&'a str>,
    /// UserShortName.
    pub user_short_name: Option<&'a str>,
    /// UserLongName.
    pub user_long_name: Option<&'a str>,
    /// Certificate presented, checked against the device channel's binding.
    pub cert_sha256: &'a [u8],
    /// APNs token.
    pub push_token: &'a [u8],
    /// PushMagic.
    pub push_magic: &'a str,
    /// Topic, if the device sent one.
    pub topic: Option<&'a str>,
    /// Sealed UnlockToken; `None` keeps the stored one.
    pub sealed_unlock_token: Option<Vec<u8>>,
    /// AwaitingConfiguration (device channel).
    pub awaiting_configuration: bool,
    /// The message as the device sent it, without its UnlockToken, for its event.
    pub message: &'a [u8],
}

/// An enrollment's status and bound certificate, as [`EnrollmentStore::diagnose`] reads them.
type StatusAndBinding = (String, Option<Vec<u8>>);

/// The event of an accepted TokenUpdate. `first`: the first since the enrollment started (an
/// Authenticate, or a user channel's return), when the device becomes managed.
fn token_update_event<'a>(
    t: &TokenUpdateRecord<'a>,
    first: bool,
    generation: i64,
    enrollment_token_id: Option<&str>,
) -> NewEvent<'a> {
    NewEvent {
        kind: "enrollment.token_update",
        enrollment_id: t.id,
        raw: Some(t.message),
        attributes: Some(serde_json::json!({
            "udid": t.device_id,
            "user_id": t.user_id,
            "first": first,
            "generation": generation,
            "awaiting_configuration": t.awaiting_configuration,
            "topic": t.topic,
            "enrollment_token_id": enrollment_token_id,
        })),
        ..NewEvent::default()
    }
}

/// What a check-out transaction found.
enum CheckOutResult {
    Done,
    DeviceNotActive,
    UserNotActive,
}

/// One target of an enqueue as [`EnrollmentStore::resolve`] finds it: its generation and
/// status, and what a command is checked against Apple's schema with.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResolvedRow {
    /// The enrollment ID.
    pub id: String,
    /// Its generation.
    pub generation: i64,
    /// Its status.
    #[sqlx(try_from = "String")]
    pub status: EnrollmentStatus,
    /// `ProductName`, as last reported.
    pub product_name: Option<String>,
    /// `OSVersion`, as last reported.
    pub os_version: Option<String>,
    /// Supervised, as last reported.
    pub supervised: Option<bool>,
    /// A user channel.
    pub user_channel: bool,
}

/// A device channel admitted by [`EnrollmentStore::authorize_device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized {
    /// Its generation.
    pub generation: i64,
    /// This request bound its certificate (first use of an imported device's or of a renewal):
    /// what the edges cached about the device must be forgotten.
    pub rebound: bool,
}

/// The enrollment store of enroll-svc.
#[derive(Debug, Clone)]
pub struct EnrollmentStore {
    db: Db,
}

impl EnrollmentStore {
    /// Wraps a pool and runs the migrations for its engine.
    pub async fn open(db: Db) -> Result<EnrollmentStore, Error> {
        db.migrate(&SQLITE_MIGRATIONS, &POSTGRES_MIGRATIONS).await?;
        Ok(EnrollmentStore { db })
    }

    /// The pool, for readiness checks.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Records a TokenUpdate. The device channel moves to `enrolled`; a user channel is created
    /// or revived under its active device channel.
    pub async fn token_update(&self, t: &TokenUpdateRecord<'_>) -> Result<(), Error> {
        let now = now_ms();
        if !t.channel.is_user() {
            let updated: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
                let mut tx = pool.begin_write().await?;
                // What the enrollment was before: the first TokenUpdate after an Authenticate
                // is the one that finishes enrolling (blueprints start there).
                let before: Option<(String, i64, Option<String>)> = sqlx::query_as(
                    "SELECT e.status, e.generation, c.enrollment_token_id FROM enrollments e
                     LEFT JOIN issued_certificates c ON c.sha256 = e.cert_sha256 WHERE e.id = $1",
                )
                .bind(t.id)
                .fetch_optional(&mut *tx)
                .await?;
                let done = sqlx::query(
                    "UPDATE enrollments SET push_token = $2, push_magic = $3,
                        unlock_token = COALESCE($4, unlock_token), awaiting_configuration = $5,
                        topic = COALESCE($6, topic), status = 'enrolled', token_updated_at = $7, last_seen_at = $7
                     WHERE id = $1 AND status IN ('authenticated', 'enrolled') AND cert_sha256 = $8",
                )
                .bind(t.id)
                .bind(t.push_token)
                .bind(t.push_magic)
                .bind(t.sealed_unlock_token.as_deref())
                .bind(t.awaiting_configuration)
                .bind(t.topic)
                .bind(now)
                .bind(t.cert_sha256)
                .execute(&mut *tx)
                .await?;
                let Some((status, generation, token_id)) = before.filter(|_| done.rows_affected() > 0) else {
                    return Ok(false);
                };
                token_update_event(t, status == "authenticated", generation, token_id.as_deref())
                    .write(&mut *tx, now)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }.await);
            if !updated? {
                return Err(self.diagnose(t.id, t.cert_sha256).await);
            }
            return Ok(());
        }
        let result: Result<bool, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let touched = sqlx::query(
                "UPDATE enrollments SET last_seen_at = $3
                 WHERE id = $1 AND status IN ('authenticated', 'enrolled') AND cert_sha256 = $2",
            )
            .bind(t.device_id)
            .bind(t.cert_sha256)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if touched.rows_affected() == 0 {
                return Ok(false);
            }
            let was_enrolled: bool = sqlx::query_scalar(
                "SELECT COUNT(*) > 0 FROM enrollments WHERE id = $1 AND status = 'enrolled'",
            )
            .bind(t.id)
            .fetch_one(&mut *tx)
            .await?;
            // A user channel back after a CheckOut (its own, or its device's re-enrollment)
            // starts a new generation, like a device's Authenticate.
            let generation: i64 = sqlx::query_scalar(
                "INSERT INTO enrollments (id, device_id, channel, user_id, user_short_name, user_long_name,
                    status, topic, push_token, push_magic, created_at, token_updated_at, last_seen_at, generation)
                 VALUES ($1, $2, $3, $4, $5, $6, 'enrolled', $7, $8, $9, $10, $10, $10, 1)
                 ON CONFLICT (id) DO UPDATE SET
                    generation = CASE WHEN enrollments.status = 'checked_out'
                        THEN enrollments.generation + 1 ELSE enrollments.generation END,
                    user_short_name = excluded.user_short_name, user_long_name = excluded.user_long_name,
                    status = 'enrolled', topic = COALESCE(excluded.topic, enrollments.topic),
                    push_token = excluded.push_token, push_magic = excluded.push_magic,
                    token_updated_at = excluded.token_updated_at, checked_out_at = NULL,
                    last_seen_at = excluded.last_seen_at
                 RETURNING generation",
            )
            .bind(t.id)
            .bind(t.device_id)
            .bind(t.channel.as_str())
            .bind(t.user_id)
            .bind(t.user_short_name)
            .bind(t.user_long_name)
            .bind(t.topic)
            .bind(t.push_token)
            .bind(t.push_magic)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            token_update_event(t, !was_enrolled, generation, None)
                .write(&mut *tx, now)
                .await?;
            tx.commit().await?;
            Ok(true)
        }.await);
        // The transaction is over before diagnosing, so a one-connection pool cannot deadlock.
        match result {
            Ok(true) => Ok(()),
            Ok(false) => Err(self.diagnose(t.device_id, t.cert_sha256).await),
            Err(e) => Err(Error::Database(e)),
        }
    }

    /// Marks an enrollment checked out; a device channel takes its user channels with it.
    pub async fn check_out(
        &self,
        id: &str,
        device_id: &str,
        cert_sha256: &[u8],
        message: &[u8],
    ) -> Result<(), Error> {
        let now = now_ms();
        let user_channel = id != device_id;
        let result: Result<CheckOutResult, sqlx::Error> = with_db!(&self.db, pool => async {
            let mut tx = pool.begin_write().await?;
            let device = sqlx::query(
                "UPDATE enrollments SET last_seen_at = $3,
                    status = CASE WHEN $4 THEN status ELSE 'checked_out' END,
                    checked_out_at = CASE WHEN $4 THEN checked_out_at ELSE $3 END
                 WHERE id = $1 AND status <> 'checked_out' AND cert_sha256 = $2",
            )
            .bind(device_id)
            .bind(cert_sha256)
            .bind(now)
            .bind(user_channel)
            .execute(&mut *tx)
            .await?;
            if device.rows_affected() == 0 {
                return Ok(CheckOutResult::DeviceNotActive);
            }
            let scope = if user_channel { "id = $1" } else { "device_id = $1 AND id <> device_id" };
            let users = sqlx::query(&format!(
                "UPDATE enrollments SET status = 'checked_out', checked_out_at = $2
                 WHERE {scope} AND status <> 'checked_out'"
            ))
            .bind(if user_channel { id } else { device_id })
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if user_channel && users.rows_affected() == 0 {
                // The user channel was never enrolled or already left: nothing to commit.
                return Ok(CheckOutResult::UserNotActive);
            }
            NewEvent {
                kind: "enrollment.checked_out",
                enrollment_id: id,
                raw: Some(message),
                attributes: Some(serde_json::json!({"udid": device_id})),
                ..NewEvent::default()
            }
            .write(&mut *tx, now)
            .await?;
            tx.commit().await?;
            Ok(CheckOutResult::Done)
        }.await);
        match result? {
            CheckOutResult::Done => Ok(()),
            CheckOutResult::DeviceNotActive => Err(self.diagnose(device_id, cert_sha256).await),
            CheckOutResult::UserNotActive => Err(Error::NotManaged(id.to_string())),
        }
    }

    /// Stores (or, with `None`, removes) the sealed BootstrapToken of an active device channel.
    pub async fn set_bootstrap_token(
        &self,
        device_id: &str,
        cert_sha256: &[u8],
        sealed: Option<&[u8]>,
    ) -> Result<(), Error> {
        let updated = with_db!(&self.db, pool => sqlx::query(
            "UPDATE enrollments SET bootstrap_token = $3, last_seen_at = $4
             WHERE id = $1 AND status IN ('authenticated', 'enrolled') AND cert_sha256 = $2",
        )
        .bind(device_id)
        .bind(cert_sha256)
        .bind(sealed)
        .bind(now_ms())
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
        if updated == 0 {
            return Err(self.diagnose(device_id, cert_sha256).await);
        }
        Ok(())
    }

    /// The sealed BootstrapToken of an active device channel presenting its bound certificate.
    pub async fn bootstrap_token(
        &self,
        device_id: &str,
        cert_sha256: &[u8],
    ) -> Result<Option<Vec<u8>>, Error> {
        let row: Option<(Option<Vec<u8>>,)> = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT bootstrap_token FROM enrollments
             WHERE id = $1 AND status IN ('authenticated', 'enrolled') AND cert_sha256 = $2",
        )
        .bind(device_id)
        .bind(cert_sha256)
        .fetch_optional(pool)
        .await)?;
        match row {
            Some((token,)) => Ok(token),
            None => Err(self.diagnose(device_id, cert_sha256).await),
        }
    }

    /// Checks that a device channel is active and presents its bound certificate; answers its
    /// generation. A device imported from another server (not bound yet) binds the certificate
    /// it presents here, once ([`EnrollmentStore::bind_imported`]); a renewal issued for the
    /// device takes the binding over at its first use ([`EnrollmentStore::adopt_renewal`]),
    /// after which the edges must forget the old certificate ([`Authorized::rebound`]).
    pub async fn authorize_device(
        &self,
        device_id: &str,
        cert_sha256: &[u8],
    ) -> Result<Authorized, Error> {
        let bound = || async {
            with_db!(&self.db, pool => sqlx::query_scalar::<_, i64>(
                "SELECT generation FROM enrollments
                 WHERE id = $1 AND status IN ('authenticated', 'enrolled') AND cert_sha256 = $2",
            )
            .bind(device_id)
            .bind(cert_sha256)
            .fetch_optional(pool)
            .await)
        };
        if let Some(generation) = bound().await? {
            return Ok(Authorized {
                generation,
                rebound: false,
            });
        }
        // The certificate's first use: a device imported from another server, or a renewal.
        if self.bind_imported(device_id, cert_sha256).await?
            || self.adopt_renewal(device_id, cert_sha256).await?
        {
            if let Some(generation) = bound().await? {
                return Ok(Authorized {
                    generation,
                    rebound: true,
                });
            }
        }
        Err(self.diagnose(device_id, cert_sha256).await)
    }

    /// Checks that a user channel exists and is enrolled (its device is checked separately);
    /// answers its generation.
    pub async fn authorize_user_channel(&self, id: &str) -> Result<i64, Error> {
        let found = with_db!(&self.db, pool => sqlx::query_scalar::<_, i64>(
            "SELECT generation FROM enrollments WHERE id = $1 AND status = 'enrolled'",
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        found.ok_or_else(|| Error::NotManaged(id.to_string()))
    }

    /// Each of `ids` that exists (unknown ones are left out), with its generation, status and
    /// the facts a command is checked against.
    pub async fn resolve(&self, ids: &[String]) -> Result<Vec<ResolvedRow>, Error> {
        let mut found = Vec::with_capacity(ids.len());
        // Bounded statements: a JSON array of at most this many IDs each.
        for chunk in ids.chunks(5_000) {
            let json =
                serde_json::to_string(chunk).map_err(|e| Error::InvalidRequest(e.to_string()))?;
            let rows: Vec<ResolvedRow> = match &self.db {
                Db::Sqlite(pool) => {
                    sqlx::query_as(
                        "SELECT id, generation, status, product_name, os_version, supervised,
                                user_id IS NOT NULL AS user_channel
                         FROM enrollments WHERE id IN (SELECT value FROM json_each($1))",
                    )
                    .bind(&json)
                    .fetch_all(pool)
                    .await?
                }
                Db::Postgres(pool) => {
                    sqlx::query_as(
                        "SELECT id, generation, status, product_name, os_version, supervised,
                                user_id IS NOT NULL AS user_channel
                         FROM enrollments WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))",
                    )
                    .bind(&json)
                    .fetch_all(pool)
                    .await?
                }
            };
            found.extend(rows);
        }
        Ok(found)
    }

    /// One enrollment, or `None`.
    pub async fn get(&self, id: &str) -> Result<Option<EnrollmentRecord>, Error> {
        let record = with_db!(&self.db, pool => async {
            let sql = format!("SELECT *, {} FROM enrollments WHERE id = $1", record::IDENTITY_NOT_AFTER);
            let row = sqlx::query(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(<EnrollmentRecord as sqlx::FromRow<_>>::from_row).transpose()
        }.await);
        Ok(record?)
    }

    /// Why a guarded statement matched no row: unknown or checked out (not managed, 401), or
    /// another certificate (403). A database failure here is reported as such, never as 401.
    async fn diagnose(&self, device_id: &str, cert_sha256: &[u8]) -> Error {
        let row: Result<Option<StatusAndBinding>, sqlx::Error> = with_db!(&self.db, pool => sqlx::query_as(
            "SELECT status, cert_sha256 FROM enrollments WHERE id = $1",
        )
        .bind(device_id)
        .fetch_optional(pool)
        .await);
        let (status, bound) = match row {
            Ok(Some(row)) => row,
            Ok(None) => return Error::NotManaged(device_id.to_string()),
            Err(e) => return Error::Database(e),
        };
        if status == EnrollmentStatus::CheckedOut.as_str() {
            Error::NotManaged(device_id.to_string())
        } else if bound.as_deref() != Some(cert_sha256) {
            Error::CertificateMismatch(device_id.to_string())
        } else {
            // Active and bound to this certificate, yet the guarded write matched nothing: the
            // state changed in between. Report a fault (retryable), not an identity decision.
            Error::Database(sqlx::Error::Protocol(
                "enrollment changed during the request".into(),
            ))
        }
    }
}
