//! `mdmctl enroll token create|list|revoke` and `mdmctl enroll profile`: the tokens the
//! enrollment URLs require, and the direct enrollment profile downloaded with one.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::{self, Api, Span};
use crate::config::{self, Env};
use crate::duration::{is_past, parse_duration, ttl};
use crate::exit::UsageError;
use crate::output;
use crate::table::Table;
use anyhow::Context;
use clap::{Args, Subcommand};
use mdm_api::enrollment::{
    CreatedEnrollmentToken, EnrollmentToken, EnrollmentTokenQuery, EnrollmentTokenRequest,
};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// `mdmctl enroll ...`
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: EnrollVerb,
}

/// The verbs of `mdmctl enroll`.
#[derive(Debug, Subcommand)]
pub enum EnrollVerb {
    /// Create, list and revoke enrollment tokens.
    Token {
        /// What to do.
        #[command(subcommand)]
        verb: TokenVerb,
    },
    /// Download the direct enrollment profile (for tools and macOS) from the enrollment
    /// listener.
    Profile(ProfileArgs),
}

/// The verbs of `mdmctl enroll token`.
#[derive(Debug, Subcommand)]
pub enum TokenVerb {
    /// Create a token; its secret and enrollment URLs are shown this once.
    Create(CreateArgs),
    /// List tokens, newest first: the usable ones, or every one with --all.
    List {
        /// Also list revoked, expired and used-up tokens.
        #[arg(long)]
        all: bool,
    },
    /// Revoke a token (a revoked token is left revoked).
    Revoke {
        /// The token's ID (from `enroll token list`).
        id: String,
    },
}

/// Options of `enroll token create`.
#[derive(Debug, Default, Args)]
pub struct CreateArgs {
    /// One enrollment only (the server's default).
    #[arg(long, conflicts_with_all = ["uses", "unlimited"])]
    pub single_use: bool,
    /// At most N enrollments.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub uses: Option<u32>,
    /// Any number of enrollments until the token expires.
    #[arg(long, conflicts_with = "uses")]
    pub unlimited: bool,
    /// How long the token is valid, e.g. 24h or 7d (the server's default is a week).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub expires_in: Option<Duration>,
    /// The user the enrollments made with the token belong to.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// A note for administrators.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
}

/// Options of `enroll profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The enrollment token's secret.
    #[arg(long, value_name = "SECRET")]
    pub token: String,
    /// Where to write the signed profile (.mobileconfig).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Base URL of the enrollment listener, e.g. https://mdm.example.com
    /// [env: MDM_ENROLLMENT_URL]
    #[arg(long, value_name = "URL")]
    pub enrollment_url: Option<String>,
}

/// Runs `mdmctl enroll ...`.
pub async fn run(args: EnrollArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    match args.verb {
        EnrollVerb::Token { verb } => token(verb, global, env).await,
        EnrollVerb::Profile(profile) => download_profile(profile, global, env).await,
    }
}

async fn token(verb: TokenVerb, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let api = Api::connect(global, env)?;
    match verb {
        TokenVerb::Create(create) => {
            let token = api
                .create_enrollment_token(&create_body(&create))
                .await
                .context("creating an enrollment token")?;
            match global.output {
                OutputFormat::Json => output::json(&token.json),
                OutputFormat::Table => output::text(&created(&token.value).to_string()),
            }
        }
        TokenVerb::List { all } => {
            let query = EnrollmentTokenQuery {
                include_inactive: all.then_some(true),
                ..EnrollmentTokenQuery::default()
            };
            let tokens = api
                .enrollment_tokens(&query, Span::all(1000))
                .await
                .context("listing enrollment tokens")?;
            match global.output {
                OutputFormat::Json => output::json(&tokens.json),
                OutputFormat::Table => {
                    if tokens.is_empty() {
                        eprintln!("no enrollment tokens");
                    }
                    output::text(&listed(&tokens.items, SystemTime::now()).to_string())
                }
            }
        }
        TokenVerb::Revoke { id } => {
            let token = api
                .revoke_enrollment_token(&id)
                .await
                .with_context(|| format!("revoking enrollment token {id}"))?;
            match global.output {
                OutputFormat::Json => output::json(&token.json),
                OutputFormat::Table => output::line(&format!("revoked {}", token.value.id)),
            }
        }
    }
}

/// The `EnrollmentTokenRequest` of `create`'s options.
pub fn create_body(args: &CreateArgs) -> EnrollmentTokenRequest {
    EnrollmentTokenRequest {
        description: args.description.clone().unwrap_or_default(),
        user_name: args.user.clone(),
        max_uses: args.uses.or(args.single_use.then_some(1)),
        unlimited: args.unlimited,
        expiry: args.expires_in.map(ttl),
    }
}

/// A new token as `field value` rows, the secret and URLs included.
fn created(t: &CreatedEnrollmentToken) -> Table {
    let mut table = Table::without_header();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut field = |name: &str, value: String| table.row([name.to_owned(), value]);
    field("id", t.token.id.clone());
    field("secret", t.secret.clone());
    field("enrollment_url", t.enrollment_url.clone());
    field("profile_url", t.profile_url.clone());
    field("user_name", text(&t.token.user_name));
    field("max_uses", uses_limit(&t.token));
    field("expires_at", text(&t.token.expires_at));
    table
}

fn uses_limit(t: &EnrollmentToken) -> String {
    t.max_uses
        .map_or_else(|| "unlimited".into(), |m| m.to_string())
}

/// Whether a token can still be used, by the fields the API returns.
pub fn state(t: &EnrollmentToken, now: SystemTime) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if is_past(t.expires_at.as_deref(), now) {
        "expired"
    } else if t.max_uses.is_some_and(|max| t.uses >= max) {
        "used_up"
    } else {
        "active"
    }
}

/// One row per token.
pub fn listed(tokens: &[EnrollmentToken], now: SystemTime) -> Table {
    let mut table = Table::new([
        "ID",
        "STATE",
        "USES",
        "USER",
        "EXPIRES",
        "CREATED BY",
        "DESCRIPTION",
    ]);
    for t in tokens {
        table.row([
            t.id.clone(),
            state(t, now).to_owned(),
            format!("{}/{}", t.uses, uses_limit(t)),
            t.user_name.clone().unwrap_or_default(),
            t.expires_at.clone().unwrap_or_default(),
            t.created_by.clone(),
            t.description.clone(),
        ]);
    }
    table
}

async fn download_profile(args: ProfileArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let base = args
        .enrollment_url
        .clone()
        .or_else(|| env.get("MDM_ENROLLMENT_URL").map(str::to_owned))
        .ok_or_else(|| {
            UsageError::with_hint(
                "no enrollment URL is given",
                "pass --enrollment-url https://mdm.example.com or set MDM_ENROLLMENT_URL",
            )
        })?;
    let mut url = config::parse_url(&base)
        .map_err(|why| UsageError::new(format!("the enrollment URL {why}")))?;
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(["enroll", "profile"]);
    }
    url.set_query(None);
    url.query_pairs_mut().append_pair("token", &args.token);
    let (resolved, _) = config::load(global, env)?;
    let ca_file = resolved.ca_file.map(|s| s.value);
    let profile = client::fetch(ca_file.as_deref(), url)
        .await
        .context("downloading the enrollment profile")?;
    std::fs::write(&args.out, &profile)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "wrote the enrollment profile to {} ({} bytes)",
        args.out.display(),
        profile.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::parse_timestamp;

    #[test]
    fn create_options_become_the_request() {
        let args = CreateArgs {
            uses: Some(5),
            expires_in: Some(Duration::from_secs(7 * 86_400)),
            user: Some("alice".into()),
            ..CreateArgs::default()
        };
        assert_eq!(
            serde_json::to_value(create_body(&args)).expect("json"),
            serde_json::json!({"description": "", "user_name": "alice", "max_uses": 5,
                               "unlimited": false, "expiry": {"ttl_seconds": 604_800}})
        );
        let unlimited = CreateArgs {
            unlimited: true,
            ..CreateArgs::default()
        };
        let body = create_body(&unlimited);
        assert_eq!(
            (body.max_uses, body.unlimited, body.expiry),
            (None, true, None)
        );
        let single = CreateArgs {
            single_use: true,
            ..CreateArgs::default()
        };
        assert_eq!(create_body(&single).max_uses, Some(1));
    }

    #[test]
    fn states_follow_revocation_expiry_and_uses() {
        let now = parse_timestamp("2026-11-21T12:00:00Z").expect("time");
        let token = |f: fn(&mut EnrollmentToken)| {
            let mut t = EnrollmentToken {
                id: "T1".into(),
                description: String::new(),
                user_name: None,
                max_uses: Some(1),
                uses: 0,
                created_by: "ops".into(),
                created_at: None,
                expires_at: Some("2026-11-28T12:00:00Z".into()),
                revoked_at: None,
            };
            f(&mut t);
            state(&t, now)
        };
        assert_eq!(token(|_| {}), "active");
        assert_eq!(token(|t| t.revoked_at = Some("x".into())), "revoked");
        assert_eq!(
            token(|t| t.expires_at = Some("2026-11-20T00:00:00Z".into())),
            "expired"
        );
        assert_eq!(token(|t| t.uses = 1), "used_up");
    }
}
