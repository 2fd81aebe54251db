//! The device list: enrollments in ID order (or by name or last contact, either way) after a
//! cursor, filtered server-side. Only the filters given become conditions, so each query can use
//! the index its filter has (see the `0004_inventory` and `0005_device_order` migrations);
//! prefix filters are ranges, which both engines scan in order. A sorted list continues after
//! the last row's (sort value, ID), so a page never repeats or skips a device whose sort value
//! it shares with another.

use super::record::IDENTITY_NOT_AFTER;
use super::{EnrollmentRecord, EnrollmentStatus, EnrollmentStore};
use crate::error::Error;
use service_kit::db::Db;
use sqlx::FromRow;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    /// Only this status.
    pub status: Option<EnrollmentStatus>,
    /// Exactly this serial number.
    pub serial_number: Option<String>,
    /// ProductName, Model or ModelName equal to this.
    pub model: Option<String>,
    /// This OS version or one of its point releases: `17` finds 17, 17.4 and 17.4.1; `17.4`
    /// finds 17.4 and 17.4.1, never 17.40.
    pub os_version_prefix: Option<String>,
    /// Device names starting with this, ignoring case.
    pub name_prefix: Option<String>,
    /// Seen at or after (Unix ms).
    pub last_seen_after: Option<i64>,
    /// Seen before (Unix ms).
    pub last_seen_before: Option<i64>,
}

/// The order of the list. Ties (and devices without a name) are ordered by ID.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeviceOrder {
    /// Enrollment ID, ascending.
    #[default]
    Id,
    /// Device name, ignoring case; devices without one first.
    Name {
        /// Z to A.
        descending: bool,
    },
    /// Last contact.
    LastSeen {
        /// Most recent first.
        descending: bool,
    },
}

/// Where a sorted page continues: after the last row's sort value and ID.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum SortValue {
    Text(String),
    Int(i64),
}

impl DeviceOrder {
    /// The sort expression, and whether it runs backwards; `None` for ID order.
    fn expression(self, bytewise: &str) -> Option<(String, bool)> {
        match self {
            DeviceOrder::Id => None,
            DeviceOrder::Name { descending } => Some((
                format!("COALESCE(lower(device_name), ''){bytewise}"),
                descending,
            )),
            DeviceOrder::LastSeen { descending } => Some(("last_seen_at".into(), descending)),
        }
    }
}

/// A page of the list, and the key the next one continues after (`None` on the last page).
#[derive(Debug)]
pub struct DevicePage {
    /// The enrollments, in order.
    pub records: Vec<EnrollmentRecord>,
    /// Where the next page starts; pass it back as `after`.
    pub next_key: Option<String>,
}

/// A bind value of the built query.
enum Bind {
    Text(String),
    Int(i64),
}

impl EnrollmentStore {
    /// Enrollments matching `filter`, in `order` after `after` (a previous page's
    /// `next_key`; empty for the first page), at most `limit`.
    pub async fn list(
        &self,
        filter: &DeviceFilter,
        order: DeviceOrder,
        after: &str,
        limit: i64,
    ) -> Result<DevicePage, Error> {
        let postgres = matches!(self.db, Db::Postgres(_));
        // Bytewise comparison makes a prefix one contiguous range; SQLite compares bytewise.
        let bytewise = if postgres { " COLLATE \"C\"" } else { "" };
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        let mut bind = |value: Bind| {
            binds.push(value);
            format!("${}", binds.len())
        };
        // The sort value is read back from the engine (`sort_key`), never recomputed here:
        // `lower()` is the engine's, and the next page must continue exactly where it stopped.
        let (order_by, sort_key) = match order.expression(bytewise) {
            None => {
                let p = bind(Bind::Text(after.to_owned()));
                conditions.push(format!("id > {p}"));
                ("id".to_owned(), "NULL".to_owned())
            }
            Some((key, descending)) => {
                let (past, direction) = if descending {
                    ("<", "DESC")
                } else {
                    (">", "ASC")
                };
                if !after.is_empty() {
                    let (value, id): (SortValue, String) =
                        serde_json::from_str(after).map_err(|_| {
                            Error::InvalidRequest("the cursor is not of this order".into())
                        })?;
                    let value = bind(match value {
                        SortValue::Text(text) => Bind::Text(text),
                        SortValue::Int(n) => Bind::Int(n),
                    });
                    let id = bind(Bind::Text(id));
                    conditions.push(format!(
                        "({key} {past} {value} OR ({key} = {value} AND id {past} {id}))"
                    ));
                }
                (format!("{key} {direction}, id {direction}"), key)
            }
        };
        if let Some(status) = filter.status {
            let p = bind(Bind::Text(status.as_str().to_owned()));
            conditions.push(format!("status = {p}"));
        }
        if let Some(serial) = &filter.serial_number {
            let p = bind(Bind::Text(serial.clone()));
            conditions.push(format!("serial_number = {p}"));
        }
        if let Some(model) = &filter.model {
            let p = bind(Bind::Text(model.clone()));
            conditions.push(format!(
                "(product_name = {p} OR model = {p} OR model_name = {p})"
            ));
        }
        if let Some(version) = &filter.os_version_prefix {
            // Whole version parts: the version itself, or it followed by a dot. Both halves are
            // ranges on the index.
            let exact = bind(Bind::Text(version.clone()));
            let (low, high) = prefix_range(&format!("{}.", version.trim_end_matches('.')));
            let (low, high) = (bind(Bind::Text(low)), bind(Bind::Text(high)));
            conditions.push(format!(
                "(os_version{bytewise} = {exact} \
                 OR (os_version{bytewise} >= {low} AND os_version{bytewise} < {high}))"
            ));
        }
        if let Some(prefix) = &filter.name_prefix {
            let (low, high) = prefix_range(&prefix.to_lowercase());
            let (low, high) = (bind(Bind::Text(low)), bind(Bind::Text(high)));
            conditions.push(format!(
                "lower(device_name){bytewise} >= {low} AND lower(device_name){bytewise} < {high}"
            ));
        }
        if let Some(after) = filter.last_seen_after {
            let p = bind(Bind::Int(after));
            conditions.push(format!("last_seen_at >= {p}"));
        }
        if let Some(before) = filter.last_seen_before {
            let p = bind(Bind::Int(before));
            conditions.push(format!("last_seen_at < {p}"));
        }
        let limit_param = bind(Bind::Int(limit));
        let conditions = if conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            conditions.join(" AND ")
        };
        let sql = format!(
            "SELECT *, {IDENTITY_NOT_AFTER}, {sort_key} AS sort_key FROM enrollments WHERE {conditions} \
             ORDER BY {order_by} LIMIT {limit_param}"
        );
        let rows: Vec<(EnrollmentRecord, Option<SortValue>)> = service_kit::with_db!(&self.db, pool => {
            let mut query = sqlx::query(&sql);
            for value in &binds {
                query = match value {
                    Bind::Text(text) => query.bind(text.as_str()),
                    Bind::Int(n) => query.bind(*n),
                };
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok((EnrollmentRecord::from_row(row)?, sort_value(row, order))))
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })?;
        let full = i64::try_from(rows.len()) == Ok(limit);
        let next_key = match rows.last() {
            Some((last, _)) if full && order == DeviceOrder::Id => Some(last.id.clone()),
            Some((last, Some(value))) if full => serde_json::to_string(&(value, &last.id)).ok(),
            _ => None,
        };
        Ok(DevicePage {
            records: rows.into_iter().map(|(record, _)| record).collect(),
            next_key,
        })
    }
}

/// A row's `sort_key` as the engine computed it.
fn sort_value<R: sqlx::Row>(row: &R, order: DeviceOrder) -> Option<SortValue>
where
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    match order {
        DeviceOrder::Id => None,
        DeviceOrder::Name { .. } => row
            .try_get::<String, _>("sort_key")
            .ok()
            .map(SortValue::Text),
        DeviceOrder::LastSeen { .. } => row.try_get::<i64, _>("sort_key").ok().map(SortValue::Int),
    }
}

/// The bounds `[low, high)` of the strings that start with `prefix`, bytewise: `high` is the
/// prefix followed by the highest character, which no device name or version holds.
fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

#[cfg(test)]
mod tests {
    use super::prefix_range;

    #[test]
    fn a_prefix_range_holds_what_starts_with_it_and_nothing_else() {
        let (low, high) = prefix_range("17");
        let within = |v: &str| low.as_str() <= v && v < high.as_str();
        for starts in ["17", "17.0", "17.4.1", "170", "17z"] {
            assert!(within(starts), "{starts}");
        }
        for other in ["16.9", "1", "18", "1.7"] {
            assert!(!within(other), "{other}");
        }
    }
}
