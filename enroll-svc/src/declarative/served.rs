//! What a channel is served, read in the same statement as the check that the certificate it
//! presents is bound to its device and that the channel is managed: one statement per check-in
//! when the binding holds. When it does not, the answer is `None` and the caller runs the full
//! authorization (a certificate's first use after an import or a renewal, or why it is refused)
//! before asking again.

use super::store::{DeclarationRow, DeclarativeStore, ServedItem};
use crate::error::Error;
use service_kit::with_db;

/// The channel a check-in comes from, and the certificate the edge verified.
#[derive(Debug, Clone, Copy)]
pub struct Channel<'a> {
    /// The enrollment: the device channel, or a user's (`<device>:<user>`).
    pub id: &'a str,
    /// Its device channel.
    pub device_id: &'a str,
    /// SHA-256 of the certificate presented.
    pub cert_sha256: &'a [u8],
}

/// On `e`, the device channel's row: the certificate (`$3`) is bound to the device (`$2`), and
/// the channel (`$1`), when it is a user's, is enrolled. What `authorize_device` and
/// `authorize_user_channel` check, without a first use's binding.
pub(crate) const BOUND: &str = "e.id = $2 AND e.cert_sha256 = $3
     AND e.status IN ('authenticated', 'enrolled')
     AND ($1 = $2 OR EXISTS (SELECT 1 FROM enrollments c WHERE c.id = $1 AND c.status = 'enrolled'))";

/// A served item, or the one row of nulls a bound channel that is served nothing gets.
#[derive(Debug, sqlx::FromRow)]
struct MaybeItem {
    identifier: Option<String>,
    #[sqlx(rename = "type")]
    declaration_type: Option<String>,
    server_token: Option<String>,
    updated_at: Option<i64>,
}

/// A declaration, or nulls when the bound channel is not served it.
#[derive(Debug, sqlx::FromRow)]
struct MaybeDeclaration {
    identifier: Option<String>,
    #[sqlx(rename = "type")]
    declaration_type: Option<String>,
    payload: Option<String>,
    server_token: Option<String>,
    created_at: Option<i64>,
    updated_at: Option<i64>,
    updated_by: Option<String>,
}

impl DeclarativeStore {
    /// Every declaration of every set assigned to the channel; `None` when the binding check
    /// fails.
    pub async fn served_to(&self, channel: &Channel<'_>) -> Result<Option<Vec<ServedItem>>, Error> {
        let sql = format!(
            "SELECT s.identifier, s.type, s.server_token, s.updated_at
             FROM (SELECT 1 AS bound FROM enrollments e WHERE {BOUND}) b
             LEFT JOIN (
                SELECT DISTINCT d.identifier, d.type, d.server_token, d.updated_at
                FROM declaration_set_assignments a
                JOIN declaration_set_members m ON m.set_name = a.set_name
                JOIN declarations d ON d.identifier = m.identifier
                WHERE a.enrollment_id = $1) s ON 1 = 1
             ORDER BY s.identifier"
        );
        let rows = with_db!(&self.db, pool => {
            sqlx::query_as::<_, MaybeItem>(&sql)
                .bind(channel.id)
                .bind(channel.device_id)
                .bind(channel.cert_sha256)
                .fetch_all(pool)
                .await
        })?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(
            rows.into_iter()
                .filter_map(|row| {
                    Some(ServedItem {
                        identifier: row.identifier?,
                        declaration_type: row.declaration_type?,
                        server_token: row.server_token?,
                        updated_at: row.updated_at?,
                    })
                })
                .collect(),
        ))
    }

    /// One declaration, if the channel is served it (a device fetches only its own); `None`
    /// when the binding check fails.
    pub async fn served_declaration_to(
        &self,
        channel: &Channel<'_>,
        identifier: &str,
    ) -> Result<Option<Option<DeclarationRow>>, Error> {
        let sql = format!(
            "SELECT d.identifier, d.type, d.payload, d.server_token, d.created_at, d.updated_at,
                    d.updated_by
             FROM (SELECT 1 AS bound FROM enrollments e WHERE {BOUND}) b
             LEFT JOIN declarations d ON d.identifier = $4 AND EXISTS (
                SELECT 1 FROM declaration_set_members m
                JOIN declaration_set_assignments a ON a.set_name = m.set_name
                WHERE m.identifier = d.identifier AND a.enrollment_id = $1)"
        );
        let row = with_db!(&self.db, pool => {
            sqlx::query_as::<_, MaybeDeclaration>(&sql)
                .bind(channel.id)
                .bind(channel.device_id)
                .bind(channel.cert_sha256)
                .bind(identifier)
                .fetch_optional(pool)
                .await
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        let declaration = (|| {
            Some(DeclarationRow {
                identifier: row.identifier?,
                declaration_type: row.declaration_type?,
                payload: row.payload?,
                server_token: row.server_token?,
                created_at: row.created_at?,
                updated_at: row.updated_at?,
                updated_by: row.updated_by?,
            })
        })();
        Ok(Some(declaration))
    }
}
