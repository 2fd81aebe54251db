//! Assets the server keeps (docs/declarative.md): an administrator gives an asset's data (a user
//! name and password, a PKCS #12 identity, a file); enroll-svc seals it with its secret key and
//! makes the asset declaration that references it at the edge's asset proxy, with the data's
//! size and SHA-256, and `Authentication` `MDM`: the device fetches it as itself, and only a
//! device that holds the asset gets it.

use super::store::DeclarativeStore;
use crate::error::Error;
use mdm_core::ddm::{check_declaration, Declaration};
use service_kit::secrets::SecretBox;
use service_kit::with_db;

/// The largest asset data kept: a PKCS #12 identity or a small file, not a software package.
pub const MAX_ASSET_BYTES: usize = 1024 * 1024;

/// Sealing context of an asset's data: a sealed value only opens as its own asset.
pub fn asset_context(identifier: &str) -> String {
    format!("declaration-asset:{identifier}")
}

/// An asset ready to store: its declaration and its data, sealed.
#[derive(Debug, Clone)]
pub struct Asset {
    /// The declaration that references the data.
    pub declaration: Declaration,
    /// The data's media type.
    pub content_type: String,
    /// The data, sealed.
    pub sealed: Vec<u8>,
}

/// Makes the asset `identifier` of `asset_type` for `data`, served at `assets_url`/identifier:
/// the declaration is checked against Apple's schema like any other, so a type without a
/// `Reference` is refused naming what is missing.
pub fn asset(
    identifier: &str,
    asset_type: &str,
    content_type: &str,
    data: &[u8],
    assets_url: &str,
    secrets: &SecretBox,
) -> Result<Asset, Error> {
    if data.len() > MAX_ASSET_BYTES {
        return Err(Error::InvalidRequest(format!(
            "an asset's data is at most {MAX_ASSET_BYTES} bytes"
        )));
    }
    if content_type.trim().is_empty() || content_type.len() > 255 {
        return Err(Error::InvalidRequest(
            "an asset's content type is 1 to 255 bytes".into(),
        ));
    }
    let url = format!(
        "{assets_url}/{}",
        percent_encoding::utf8_percent_encode(identifier, SEGMENT)
    );
    let json = serde_json::json!({
        "Type": asset_type,
        "Identifier": identifier,
        "Payload": {
            "Reference": {
                "DataURL": url,
                "ContentType": content_type,
                "Size": data.len(),
                "Hash-SHA-256": hex::encode(openssl::sha::sha256(data)),
            },
            "Authentication": {"Type": "MDM"},
        },
    });
    let declaration = check_declaration(&json).map_err(|e| {
        Error::InvalidRequest(format!(
            "{e} (assets kept by the server are the types whose payload has a Reference)"
        ))
    })?;
    Ok(Asset {
        declaration,
        content_type: content_type.to_owned(),
        sealed: secrets.seal(data, &asset_context(identifier)),
    })
}

/// Every byte but RFC 3986's unreserved characters is escaped: an identifier is one path
/// segment of the asset's URL.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// An asset's data as a device fetches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedAsset {
    /// The device channel that presented the certificate.
    pub enrollment_id: String,
    /// The data's media type.
    pub content_type: String,
    /// The data, opened.
    pub data: Vec<u8>,
}

impl DeclarativeStore {
    /// The data of asset `identifier` for the device whose bound certificate is `cert_sha256`:
    /// only an enrolled device whose channels (its own, or a user's on it) are served the asset,
    /// never with a revoked certificate.
    pub async fn fetch_asset(
        &self,
        cert_sha256: &[u8],
        identifier: &str,
        secrets: &SecretBox,
    ) -> Result<FetchedAsset, Error> {
        let revoked: Option<i64> = with_db!(&self.db, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM issued_certificates WHERE sha256 = $1 AND revoked_at IS NOT NULL",
            )
            .bind(cert_sha256)
            .fetch_optional(pool)
            .await
        })?;
        if revoked.unwrap_or(0) > 0 {
            return Err(Error::Revoked(hex::encode(cert_sha256)));
        }
        let row: Option<(String, String, Vec<u8>)> = with_db!(&self.db, pool => {
            sqlx::query_as(
                "SELECT e.id, a.content_type, a.sealed
                 FROM enrollments e
                 JOIN declaration_assets a ON a.identifier = $2
                 WHERE e.cert_sha256 = $1 AND e.id = e.device_id AND e.status = 'enrolled'
                   AND EXISTS (
                     SELECT 1 FROM declaration_set_members m
                     JOIN declaration_set_assignments s ON s.set_name = m.set_name
                     JOIN enrollments c ON c.id = s.enrollment_id AND c.device_id = e.id
                     WHERE m.identifier = a.identifier)",
            )
            .bind(cert_sha256)
            .bind(identifier)
            .fetch_optional(pool)
            .await
        })?;
        let (enrollment_id, content_type, sealed) = row.ok_or_else(|| {
            Error::Absent(format!(
                "no asset {identifier:?} is served to the device of this certificate"
            ))
        })?;
        let data = secrets.open(&sealed, &asset_context(identifier))?;
        Ok(FetchedAsset {
            enrollment_id,
            content_type,
            data,
        })
    }
}
