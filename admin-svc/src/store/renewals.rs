//! Identity renewals as the dispatcher tracks them (docs/identities.md): started by an
//! `enrollment.identity_expiring` event, moved along by the events that follow (the
//! InstallProfile's answer, `enrollment.identity_renewed`, `enrollment.identity_renewal_failed`)
//! in ingest's transaction, and queued by [`crate::events::renewals`].

use super::AdminStore;
use service_kit::with_db;

/// A renewal as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RenewalRow {
    /// Serial of the certificate being replaced.
    pub serial: String,
    /// The device channel.
    pub enrollment_id: String,
    /// Unix ms of that certificate's notAfter.
    pub not_after: i64,
    /// pending | queued | installed | renewed | failed
    pub status: String,
    /// The InstallProfile, once queued.
    pub command_uuid: Option<String>,
    /// The new certificate's serial, once renewed.
    pub renewed_serial: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const RENEWAL_COLUMNS: &str = "serial, enrollment_id, not_after, status, command_uuid,
    renewed_serial, error, created_at, updated_at";

impl AdminStore {
    /// Renewals with something to do: to queue, or past their certificate's expiry while
    /// still open (they failed).
    pub async fn renewals_to_advance(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<RenewalRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {RENEWAL_COLUMNS} FROM identity_renewals
             WHERE status = 'pending' OR (status IN ('queued', 'installed') AND not_after <= $1)
             ORDER BY not_after, serial LIMIT $2"
        );
        with_db!(&self.db, pool => sqlx::query_as::<_, RenewalRow>(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await)
    }

    /// Notes that the renewal of `serial` was queued as `command_uuid`.
    pub async fn renewal_queued(
        &self,
        serial: &str,
        command_uuid: &str,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        with_db!(&self.db, pool => sqlx::query(
            "UPDATE identity_renewals SET status = 'queued', command_uuid = $2, updated_at = $3
             WHERE serial = $1 AND status = 'pending'",
        )
        .bind(serial)
        .bind(command_uuid)
        .bind(now)
        .execute(pool)
        .await
        .map(drop))
    }

    /// The open renewals whose InstallProfile is one of `command_uuids`.
    pub async fn renewals_by_command(
        &self,
        command_uuids: &[&str],
    ) -> Result<Vec<RenewalRow>, sqlx::Error> {
        let mut found = Vec::new();
        for chunk in command_uuids.chunks(500) {
            let rows: Vec<RenewalRow> = with_db!(&self.db, pool => {
                let mut query = sqlx::QueryBuilder::new(format!(
                    "SELECT {RENEWAL_COLUMNS} FROM identity_renewals
                     WHERE status IN ('queued', 'installed') AND command_uuid IN ("
                ));
                let mut list = query.separated(", ");
                for uuid in chunk {
                    list.push_bind(*uuid);
                }
                query.push(")");
                query.build_query_as().fetch_all(pool).await
            })?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// Renewals, newest first; only those of `enrollment_id` and with `status` when given.
    pub async fn renewals(
        &self,
        enrollment_id: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<RenewalRow>, sqlx::Error> {
        with_db!(&self.db, pool => {
            let mut query = sqlx::QueryBuilder::new(format!(
                "SELECT {RENEWAL_COLUMNS} FROM identity_renewals WHERE TRUE"
            ));
            if let Some(id) = enrollment_id {
                query.push(" AND enrollment_id = ").push_bind(id);
            }
            if let Some(status) = status {
                query.push(" AND status = ").push_bind(status);
            }
            query
                .push(" ORDER BY created_at DESC, serial LIMIT ")
                .push_bind(limit);
            query.build_query_as().fetch_all(pool).await
        })
    }
}

/// What ingest's bookkeeping of renewals did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RenewalChanges {
    /// Renewals started.
    pub started: usize,
    /// Renewals completed.
    pub renewed: usize,
    /// Renewals failed.
    pub failed: usize,
}

/// The bookkeeping of one stored event, inside ingest's transaction: which statement it makes,
/// if any. `renew` is whether identities are renewed at all.
pub fn renewal_change(event: &mdm_proto::v1::Event, renew: bool) -> Option<RenewalChange> {
    let attribute = |name: &str| -> Option<serde_json::Value> {
        serde_json::from_str::<serde_json::Value>(&event.attributes_json)
            .ok()?
            .get(name)
            .cloned()
    };
    let text = |name: &str| attribute(name).and_then(|v| v.as_str().map(str::to_owned));
    match event.r#type.as_str() {
        "enrollment.identity_expiring" if renew => Some(RenewalChange::Start {
            serial: text("serial")?,
            not_after: attribute("not_after_ms")?.as_i64()?,
        }),
        "command.acknowledged" if !event.command_uuid.is_empty() => {
            Some(RenewalChange::Installed {
                command_uuid: event.command_uuid.clone(),
            })
        }
        "enrollment.identity_renewed" => Some(RenewalChange::Renewed {
            serial: text("renewed_serial")?,
            renewed_serial: text("serial")?,
        }),
        "enrollment.identity_renewal_failed" => Some(RenewalChange::Failed {
            serial: text("serial")?,
            reason: text("reason").unwrap_or_default(),
        }),
        _ => None,
    }
}

/// A change to a renewal that an event makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalChange {
    /// A certificate was announced as near expiry.
    Start {
        /// Its serial.
        serial: String,
        /// Its notAfter.
        not_after: i64,
    },
    /// A command was acknowledged (a renewal's InstallProfile, perhaps).
    Installed {
        /// The command.
        command_uuid: String,
    },
    /// The device used its new certificate.
    Renewed {
        /// The replaced certificate.
        serial: String,
        /// The new one.
        renewed_serial: String,
    },
    /// The renewal failed.
    Failed {
        /// The certificate it was to replace.
        serial: String,
        /// Why.
        reason: String,
    },
}

impl RenewalChange {
    /// The statement that applies the change to the renewals of `enrollment_id`, with its
    /// parameters.
    pub fn statement(&self, enrollment_id: &str, now: i64) -> (&'static str, Vec<Bind>) {
        match self {
            RenewalChange::Start { serial, not_after } => (
                "INSERT INTO identity_renewals (serial, enrollment_id, not_after, status, created_at, updated_at)
                 VALUES ($1, $2, $3, 'pending', $4, $4) ON CONFLICT (serial) DO NOTHING",
                vec![
                    Bind::Text(serial.clone()),
                    Bind::Text(enrollment_id.to_owned()),
                    Bind::Int(*not_after),
                    Bind::Int(now),
                ],
            ),
            RenewalChange::Installed { command_uuid } => (
                "UPDATE identity_renewals SET status = 'installed', updated_at = $2
                 WHERE command_uuid = $1 AND status = 'queued'",
                vec![Bind::Text(command_uuid.clone()), Bind::Int(now)],
            ),
            RenewalChange::Renewed {
                serial,
                renewed_serial,
            } => (
                "UPDATE identity_renewals SET status = 'renewed', renewed_serial = $2, error = NULL,
                    updated_at = $3
                 WHERE serial = $1 AND status <> 'renewed'",
                vec![
                    Bind::Text(serial.clone()),
                    Bind::Text(renewed_serial.clone()),
                    Bind::Int(now),
                ],
            ),
            RenewalChange::Failed { serial, reason } => (
                "UPDATE identity_renewals SET status = 'failed', error = $2, updated_at = $3
                 WHERE serial = $1 AND status IN ('pending', 'queued', 'installed')",
                vec![
                    Bind::Text(serial.clone()),
                    Bind::Text(reason.clone()),
                    Bind::Int(now),
                ],
            ),
        }
    }

    /// What the change did, when its statement changed a row.
    pub fn counted(&self) -> RenewalChanges {
        match self {
            RenewalChange::Start { .. } => RenewalChanges {
                started: 1,
                ..RenewalChanges::default()
            },
            RenewalChange::Installed { .. } => RenewalChanges::default(),
            RenewalChange::Renewed { .. } => RenewalChanges {
                renewed: 1,
                ..RenewalChanges::default()
            },
            RenewalChange::Failed { .. } => RenewalChanges {
                failed: 1,
                ..RenewalChanges::default()
            },
        }
    }
}

impl std::ops::AddAssign for RenewalChanges {
    fn add_assign(&mut self, other: RenewalChanges) {
        self.started += other.started;
        self.renewed += other.renewed;
        self.failed += other.failed;
    }
}

/// A statement parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}
