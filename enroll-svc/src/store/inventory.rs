//! Inventory: what command results said about a device, folded into its record. command-svc
//! sends each result's facts at least once, in any order across replicas: an update names the
//! time the device reported it, and one older than the record's is dropped.

use super::EnrollmentStore;
use crate::error::Error;
use mdm_core::{InstalledApp, InventoryUpdate};
use service_kit::db::BeginWrite;
use sqlx::{Postgres, Sqlite, Transaction};

/// Rows per SQLite `INSERT` of apps: 6 parameters each, well under SQLite's limit.
const SQLITE_BATCH: usize = 500;

/// An app as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AppRow {
    /// Bundle identifier.
    pub identifier: String,
    /// Name.
    pub name: Option<String>,
    /// ShortVersion.
    pub version: Option<String>,
    /// Version.
    pub build: Option<String>,
    /// BundleSize.
    pub size_bytes: Option<i64>,
}

const UPDATE: &str = "UPDATE enrollments SET
        device_name = COALESCE($3, device_name), os_version = COALESCE($4, os_version),
        build_version = COALESCE($5, build_version), model = COALESCE($6, model),
        model_name = COALESCE($7, model_name), product_name = COALESCE($8, product_name),
        serial_number = COALESCE($9, serial_number), imei = COALESCE($10, imei),
        meid = COALESCE($11, meid), capacity_gb = COALESCE($12, capacity_gb),
        available_gb = COALESCE($13, available_gb), battery_level = COALESCE($14, battery_level),
        supervised = COALESCE($15, supervised), encrypted = COALESCE($16, encrypted),
        passcode_present = COALESCE($17, passcode_present),
        app_count = COALESCE($18, app_count), inventory_updated_at = $2
     WHERE id = $1 AND (inventory_updated_at IS NULL OR inventory_updated_at <= $2)";

/// The [`UPDATE`] of one record, on either engine.
fn update_record<'q, DB>(
    report: &InventoryReport<'q>,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> Option<&'a str>: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<bool>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let update = report.update;
    let app_count = update
        .apps
        .as_ref()
        .map(|apps| i64::try_from(apps.len()).unwrap_or(i64::MAX));
    sqlx::query(UPDATE)
        .bind(report.id)
        .bind(report.reported_at)
        .bind(update.device_name.as_deref())
        .bind(update.os_version.as_deref())
        .bind(update.build_version.as_deref())
        .bind(update.model.as_deref())
        .bind(update.model_name.as_deref())
        .bind(update.product_name.as_deref())
        .bind(update.serial_number.as_deref())
        .bind(update.imei.as_deref())
        .bind(update.meid.as_deref())
        .bind(update.capacity_gb)
        .bind(update.available_gb)
        .bind(update.battery_level)
        .bind(update.supervised)
        .bind(update.encrypted)
        .bind(update.passcode_present)
        .bind(app_count)
}

/// One report to apply: what a result said about enrollment `id`, reported at `reported_at`
/// (Unix ms).
#[derive(Debug, Clone, Copy)]
pub struct InventoryReport<'a> {
    /// The enrollment.
    pub id: &'a str,
    /// When the device reported it.
    pub reported_at: i64,
    /// What it said.
    pub update: &'a InventoryUpdate,
}

impl EnrollmentStore {
    /// Applies `update`, reported at `reported_at` (Unix ms), to enrollment `id`. False when
    /// the enrollment is unknown or a newer report was applied already.
    pub async fn update_inventory(
        &self,
        id: &str,
        reported_at: i64,
        update: &InventoryUpdate,
    ) -> Result<bool, Error> {
        let report = InventoryReport {
            id,
            reported_at,
            update,
        };
        Ok(self.update_inventories(&[report]).await? > 0)
    }

    /// Applies `reports` in order, all or none: one transaction for a batch, and a single
    /// statement for one report without an app list (what most results, DeviceInformation and
    /// SecurityInfo, are). In a batch, the reports without app lists go in rounds, each device's
    /// first in one statement, its second in the next, and so on: a device's reports still apply
    /// in order, each merged over the one before or dropped as older than the record. Answers
    /// how many were applied.
    pub async fn update_inventories(
        &self,
        reports: &[InventoryReport<'_>],
    ) -> Result<usize, Error> {
        let applied: Result<usize, sqlx::Error> = service_kit::with_db!(&self.db, pool => async {
            if let [report] = reports {
                if report.update.apps.is_none() {
                    let done = update_record(report).execute(pool).await?;
                    return Ok(usize::from(done.rows_affected() > 0));
                }
            }
            let mut tx = pool.begin_write().await?;
            let mut applied = 0;
            for round in rounds(reports) {
                let (plain, with_apps): (Vec<_>, Vec<_>) =
                    round.into_iter().partition(|r| r.update.apps.is_none());
                applied += tx.update_records(&plain).await?;
                for report in with_apps {
                    let done = update_record(report).execute(&mut *tx).await?;
                    if done.rows_affected() == 0 {
                        continue;
                    }
                    applied += 1;
                    if let Some(apps) = &report.update.apps {
                        sqlx::query("DELETE FROM installed_apps WHERE enrollment_id = $1")
                            .bind(report.id)
                            .execute(&mut *tx)
                            .await?;
                        insert_apps(&mut tx, report.id, apps).await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(applied)
        }.await);
        Ok(applied?)
    }

    /// The apps of `id`'s last InstalledApplicationList, by identifier after `after`.
    pub async fn apps(&self, id: &str, after: &str, limit: i64) -> Result<Vec<AppRow>, Error> {
        let rows = service_kit::with_db!(&self.db, pool => sqlx::query_as::<_, AppRow>(
            "SELECT identifier, name, version, build, size_bytes FROM installed_apps
             WHERE enrollment_id = $1 AND identifier > $2 ORDER BY identifier LIMIT $3",
        )
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await)?;
        Ok(rows)
    }
}

/// `reports` in rounds: the first report of each device, then the second of each, and so on,
/// each round in the order the reports came.
fn rounds<'r, 'q>(reports: &'r [InventoryReport<'q>]) -> Vec<Vec<&'r InventoryReport<'q>>> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut rounds: Vec<Vec<&InventoryReport>> = Vec::new();
    for report in reports {
        let round = seen.entry(report.id).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(report);
        *round += 1;
    }
    rounds
}

/// Applies reports of distinct devices without app lists: one statement on PostgreSQL (the
/// record [`UPDATE`] over arrays), one per report on SQLite (in-process, as cheap).
trait UpdateRecords {
    async fn update_records(
        &mut self,
        reports: &[&InventoryReport<'_>],
    ) -> Result<usize, sqlx::Error>;
}

impl UpdateRecords for Transaction<'_, Postgres> {
    async fn update_records(
        &mut self,
        reports: &[&InventoryReport<'_>],
    ) -> Result<usize, sqlx::Error> {
        if reports.is_empty() {
            return Ok(0);
        }
        let text = |f: fn(&InventoryUpdate) -> &Option<String>| -> Vec<Option<&str>> {
            reports.iter().map(|r| f(r.update).as_deref()).collect()
        };
        let number = |f: fn(&InventoryUpdate) -> Option<f64>| -> Vec<Option<f64>> {
            reports.iter().map(|r| f(r.update)).collect()
        };
        let flag = |f: fn(&InventoryUpdate) -> Option<bool>| -> Vec<Option<bool>> {
            reports.iter().map(|r| f(r.update)).collect()
        };
        let ids: Vec<&str> = reports.iter().map(|r| r.id).collect();
        let reported_at: Vec<i64> = reports.iter().map(|r| r.reported_at).collect();
        let done = sqlx::query(
            "UPDATE enrollments e SET
                device_name = COALESCE(u.device_name, e.device_name),
                os_version = COALESCE(u.os_version, e.os_version),
                build_version = COALESCE(u.build_version, e.build_version),
                model = COALESCE(u.model, e.model), model_name = COALESCE(u.model_name, e.model_name),
                product_name = COALESCE(u.product_name, e.product_name),
                serial_number = COALESCE(u.serial_number, e.serial_number),
                imei = COALESCE(u.imei, e.imei), meid = COALESCE(u.meid, e.meid),
                capacity_gb = COALESCE(u.capacity_gb, e.capacity_gb),
                available_gb = COALESCE(u.available_gb, e.available_gb),
                battery_level = COALESCE(u.battery_level, e.battery_level),
                supervised = COALESCE(u.supervised, e.supervised),
                encrypted = COALESCE(u.encrypted, e.encrypted),
                passcode_present = COALESCE(u.passcode_present, e.passcode_present),
                inventory_updated_at = u.reported_at
             FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                         $12::float8[], $13::float8[], $14::float8[], $15::bool[], $16::bool[],
                         $17::bool[])
                AS u (id, reported_at, device_name, os_version, build_version, model, model_name,
                      product_name, serial_number, imei, meid, capacity_gb, available_gb,
                      battery_level, supervised, encrypted, passcode_present)
             WHERE e.id = u.id
               AND (e.inventory_updated_at IS NULL OR e.inventory_updated_at <= u.reported_at)",
        )
        .bind(ids)
        .bind(reported_at)
        .bind(text(|u| &u.device_name))
        .bind(text(|u| &u.os_version))
        .bind(text(|u| &u.build_version))
        .bind(text(|u| &u.model))
        .bind(text(|u| &u.model_name))
        .bind(text(|u| &u.product_name))
        .bind(text(|u| &u.serial_number))
        .bind(text(|u| &u.imei))
        .bind(text(|u| &u.meid))
        .bind(number(|u| u.capacity_gb))
        .bind(number(|u| u.available_gb))
        .bind(number(|u| u.battery_level))
        .bind(flag(|u| u.supervised))
        .bind(flag(|u| u.encrypted))
        .bind(flag(|u| u.passcode_present))
        .execute(&mut **self)
        .await?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}

impl UpdateRecords for Transaction<'_, Sqlite> {
    async fn update_records(
        &mut self,
        reports: &[&InventoryReport<'_>],
    ) -> Result<usize, sqlx::Error> {
        let mut applied = 0;
        for report in reports {
            let done = update_record(report).execute(&mut **self).await?;
            applied += usize::from(done.rows_affected() > 0);
        }
        Ok(applied)
    }
}

/// Inserts apps in bulk: PostgreSQL as arrays, SQLite in batches. A list that names an app
/// twice keeps its first entry.
trait InsertApps {
    async fn insert_apps_into(
        &mut self,
        id: &str,
        apps: &[&InstalledApp],
    ) -> Result<(), sqlx::Error>;
}

async fn insert_apps<T: InsertApps>(
    tx: &mut T,
    id: &str,
    apps: &[InstalledApp],
) -> Result<(), sqlx::Error> {
    let mut seen = std::collections::HashSet::with_capacity(apps.len());
    let unique: Vec<&InstalledApp> = apps
        .iter()
        .filter(|app| seen.insert(app.identifier.as_str()))
        .collect();
    tx.insert_apps_into(id, &unique).await
}

fn size(app: &InstalledApp) -> Option<i64> {
    app.size_bytes.and_then(|n| i64::try_from(n).ok())
}

impl InsertApps for Transaction<'_, Postgres> {
    async fn insert_apps_into(
        &mut self,
        id: &str,
        apps: &[&InstalledApp],
    ) -> Result<(), sqlx::Error> {
        let column = |f: fn(&InstalledApp) -> Option<String>| -> Vec<Option<String>> {
            apps.iter().map(|app| f(app)).collect()
        };
        let identifiers: Vec<&str> = apps.iter().map(|a| a.identifier.as_str()).collect();
        let sizes: Vec<Option<i64>> = apps.iter().map(|a| size(a)).collect();
        sqlx::query(
            "INSERT INTO installed_apps (enrollment_id, identifier, name, version, build, size_bytes)
             SELECT $1, identifier, name, version, build, size_bytes
             FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                AS a (identifier, name, version, build, size_bytes)",
        )
        .bind(id)
        .bind(&identifiers)
        .bind(column(|a| a.name.clone()))
        .bind(column(|a| a.version.clone()))
        .bind(column(|a| a.build.clone()))
        .bind(&sizes)
        .execute(&mut **self)
        .await?;
        Ok(())
    }
}

impl InsertApps for Transaction<'_, Sqlite> {
    async fn insert_apps_into(
        &mut self,
        id: &str,
        apps: &[&InstalledApp],
    ) -> Result<(), sqlx::Error> {
        for batch in apps.chunks(SQLITE_BATCH) {
            let rows = vec!["(?, ?, ?, ?, ?, ?)"; batch.len()].join(", ");
            let sql = format!(
                "INSERT INTO installed_apps (enrollment_id, identifier, name, version, build, size_bytes)
                 VALUES {rows}"
            );
            let mut query = sqlx::query(&sql);
            for app in batch {
                query = query
                    .bind(id)
                    .bind(&app.identifier)
                    .bind(&app.name)
                    .bind(&app.version)
                    .bind(&app.build)
                    .bind(size(app));
            }
            query.execute(&mut **self).await?;
        }
        Ok(())
    }
}
