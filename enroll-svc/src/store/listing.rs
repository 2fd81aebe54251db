//! The device list: enrollments in ID order after a cursor, filtered server-side. Only the
//! filters given become conditions, so each query can use the index its filter has (see the
//! `0004_inventory` migration); prefix filters are ranges, which both engines scan in order.

use super::{EnrollmentRecord, EnrollmentStatus, EnrollmentStore};
use crate::error::Error;
use service_kit::db::Db;

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

/// A bind value of the built query.
enum Bind {
    Text(String),
    Int(i64),
}

impl EnrollmentStore {
    /// Enrollments matching `filter`, in ID order after `after`, at most `limit`.
    pub async fn list(
        &self,
        filter: &DeviceFilter,
        after: &str,
        limit: i64,
    ) -> Result<Vec<EnrollmentRecord>, Error> {
        let postgres = matches!(self.db, Db::Postgres(_));
        // Bytewise comparison makes a prefix one contiguous range; SQLite compares bytewise.
        let bytewise = if postgres { " COLLATE \"C\"" } else { "" };
        let mut conditions = vec!["id > $1".to_owned()];
        let mut binds = vec![Bind::Text(after.to_owned())];
        let mut bind = |value: Bind| {
            binds.push(value);
            format!("${}", binds.len())
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
        let sql = format!(
            "SELECT * FROM enrollments WHERE {} ORDER BY id LIMIT {limit_param}",
            conditions.join(" AND ")
        );
        let rows = service_kit::with_db!(&self.db, pool => {
            let mut query = sqlx::query_as::<_, EnrollmentRecord>(&sql);
            for value in &binds {
                query = match value {
                    Bind::Text(text) => query.bind(text.as_str()),
                    Bind::Int(n) => query.bind(*n),
                };
            }
            query.fetch_all(pool).await
        })?;
        Ok(rows)
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
