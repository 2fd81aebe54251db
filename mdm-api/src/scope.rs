//! What an admin token may do. Scopes do not imply one another: a token that may erase
//! devices may not necessarily read them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A permission an admin token carries.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Read devices, commands, results, tokens, certificates and the audit log.
    Read,
    /// Queue non-destructive commands, push devices, make and revoke enrollment tokens.
    Commands,
    /// Destructive commands (EraseDevice, DeviceLock, ...), certificate revocation,
    /// re-enrollment approvals.
    Destructive,
    /// ClearPasscode.
    ClearPasscode,
    /// Replace the MDM push certificate.
    PushCertificate,
    /// Make, list and revoke admin tokens.
    Admin,
    /// Register webhooks (which receive every event, command results included), read their
    /// deliveries and replay dead ones.
    Webhooks,
    /// Import devices from another MDM server (`/migration`): their Authenticate and TokenUpdate
    /// make enrollments whose certificate binds at first use.
    Migrate,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 8] = [
        Scope::Read,
        Scope::Commands,
        Scope::Destructive,
        Scope::ClearPasscode,
        Scope::PushCertificate,
        Scope::Admin,
        Scope::Webhooks,
        Scope::Migrate,
    ];

    /// The name used in configuration, tokens and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Commands => "commands",
            Scope::Destructive => "destructive",
            Scope::ClearPasscode => "clear-passcode",
            Scope::PushCertificate => "push-certificate",
            Scope::Admin => "admin",
            Scope::Webhooks => "webhooks",
            Scope::Migrate => "migrate",
        }
    }

    /// The scope named `name`.
    pub fn from_name(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for scope in Scope::ALL {
            assert_eq!(Scope::from_name(scope.as_str()), Some(scope));
            let json = serde_json::to_string(&scope).expect("json");
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
        }
        assert_eq!(Scope::from_name("root"), None);
    }
}
