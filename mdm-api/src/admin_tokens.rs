//! `/v1/admin-tokens`: the API's own credentials, managed through the API (`admin` scope).
//! Tokens from the configuration (the bootstrap tokens) are listed too but cannot be revoked
//! here.

use crate::commands::Expiry;
use crate::scope::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST /v1/admin-tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminTokenRequest {
    /// Its name: who acts, in command history and the audit log.
    #[schema(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9._@-]+$")]
    pub name: String,
    /// What it may do.
    #[schema(min_items = 1, value_type = std::collections::BTreeSet<Scope>)]
    pub scopes: Vec<Scope>,
    /// When it stops working (default: 90 days).
    pub expiry: Option<Expiry>,
}

/// An admin token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdminToken {
    /// Its ID (`config:<name>` for a token from the configuration).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Who made it (`configuration` for a bootstrap token).
    pub created_by: String,
    /// When.
    pub created_at: Option<String>,
    /// It stops working then.
    pub expires_at: Option<String>,
    /// Last used (to within a minute).
    pub last_used_at: Option<String>,
    /// Revoked then.
    pub revoked_at: Option<String>,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CreatedAdminToken {
    /// The token.
    pub token: AdminToken,
    /// The secret, for `Authorization: Bearer <secret>`.
    pub secret: String,
}
