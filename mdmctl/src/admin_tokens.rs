//! `mdmctl admin-tokens create|list|revoke`: the admin API's own credentials, managed through
//! the API (the `admin` scope). A token grants at most the scopes of the token that makes it;
//! its secret is shown once, when it is made. The configuration's tokens are listed too (IDs
//! `config:<name>`) but are removed from the configuration, not here.

use crate::cli::{api_enum, GlobalArgs, OutputFormat};
use crate::client::{Api, Span};
use crate::config::Env;
use crate::duration::{is_past, parse_duration, ttl};
use crate::output;
use crate::table::Table;
use anyhow::Context;
use clap::{Args, Subcommand};
use mdm_api::admin_tokens::{AdminToken, AdminTokenRequest, CreatedAdminToken};
use mdm_api::Scope;
use std::time::{Duration, SystemTime};

/// `mdmctl admin-tokens ...`
#[derive(Debug, Args)]
pub struct AdminTokensArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: AdminTokensVerb,
}

/// The verbs of `mdmctl admin-tokens`.
#[derive(Debug, Subcommand)]
pub enum AdminTokensVerb {
    /// Make a token; its secret is shown this once.
    Create(CreateArgs),
    /// List every token: the configuration's first, then the others newest first, revoked and
    /// expired ones included.
    List,
    /// Revoke a token: it is refused from the next request on.
    Revoke {
        /// The token's ID (from `admin-tokens list`).
        id: String,
    },
}

/// Options of `admin-tokens create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Its name: who acts, in command history and the audit log (A-Z a-z 0-9 . _ @ -).
    pub name: String,
    /// A scope it carries (repeatable): read, commands, destructive, clear-passcode,
    /// push-certificate, admin or webhooks. Only scopes the token you use holds can be granted.
    #[arg(long = "scope", value_name = "SCOPE", required = true,
          value_parser = api_enum::<Scope>)]
    pub scopes: Vec<Scope>,
    /// How long it works, e.g. 30d (the server's default is 90 days).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires_in: Option<Duration>,
}

/// Runs `mdmctl admin-tokens ...`.
pub async fn run(args: AdminTokensArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    match args.verb {
        AdminTokensVerb::Create(create) => {
            let body = AdminTokenRequest {
                name: create.name.clone(),
                scopes: create.scopes,
                expiry: create.expires_in.map(ttl),
            };
            let token = api
                .create_admin_token(&body)
                .await
                .with_context(|| format!("making admin token {}", create.name))?;
            eprintln!("the secret is shown this once: keep it now");
            match global.output {
                OutputFormat::Json => output::json(&token.json),
                OutputFormat::Table => output::text(&created(&token.value).to_string()),
            }
        }
        AdminTokensVerb::List => {
            let tokens = api
                .admin_tokens(Span::all(1000))
                .await
                .context("listing admin tokens")?;
            match global.output {
                OutputFormat::Json => output::json(&tokens.json),
                OutputFormat::Table => {
                    output::text(&listed(&tokens.items, SystemTime::now()).to_string())
                }
            }
        }
        AdminTokensVerb::Revoke { id } => {
            let token = api
                .revoke_admin_token(&id)
                .await
                .with_context(|| format!("revoking admin token {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&token.json),
                OutputFormat::Table => output::line(&format!(
                    "revoked {} ({})",
                    token.value.id, token.value.name
                )),
            }
        }
    }
}

/// A new token as `field value` rows, its secret included.
fn created(t: &CreatedAdminToken) -> Table {
    let mut table = Table::without_header();
    let mut field = |name: &str, value: String| table.row([name.to_owned(), value]);
    field("id", t.token.id.clone());
    field("name", t.token.name.clone());
    field("scopes", scopes(&t.token.scopes));
    field("expires_at", t.token.expires_at.clone().unwrap_or_default());
    field("secret", t.secret.clone());
    table
}

/// Whether a token still works, by the fields the API returns.
pub fn state(t: &AdminToken, now: SystemTime) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if is_past(t.expires_at.as_deref(), now) {
        "expired"
    } else {
        "active"
    }
}

/// One row per token.
pub fn listed(tokens: &[AdminToken], now: SystemTime) -> Table {
    let mut table = Table::new([
        "ID",
        "NAME",
        "STATE",
        "SCOPES",
        "CREATED BY",
        "EXPIRES",
        "LAST USED",
    ]);
    let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
    for t in tokens {
        table.row([
            t.id.clone(),
            t.name.clone(),
            state(t, now).to_owned(),
            scopes(&t.scopes),
            t.created_by.clone(),
            or_empty(&t.expires_at),
            or_empty(&t.last_used_at),
        ]);
    }
    table
}

fn scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::parse_timestamp;

    fn token(revoked_at: Option<&str>, expires_at: Option<&str>) -> AdminToken {
        AdminToken {
            id: "T1".into(),
            name: "ci".into(),
            scopes: vec![Scope::Read, Scope::Commands],
            created_by: "ops".into(),
            created_at: None,
            expires_at: expires_at.map(str::to_owned),
            last_used_at: None,
            revoked_at: revoked_at.map(str::to_owned),
        }
    }

    #[test]
    fn states_follow_revocation_and_expiry() {
        let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
        assert_eq!(state(&token(None, None), now), "active");
        assert_eq!(state(&token(Some("x"), None), now), "revoked");
        assert_eq!(
            state(&token(None, Some("2026-11-20T00:00:00Z")), now),
            "expired"
        );
        let text = listed(&[token(None, None)], now).to_string();
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.contains("active") && l.contains("read,commands")),
            "{text}"
        );
    }
}
