//! `mdmctl push-cert show|upload`: the MDM push certificate push-svc uses (its topic and when it
//! expires), and installing a renewed one.

use crate::cli::{GlobalArgs, OutputFormat};
use crate::client::model::PushCertificate;
use crate::client::Api;
use crate::config::Env;
use crate::exit::UsageError;
use crate::output;
use crate::table::Table;
use anyhow::Context;
use base64::Engine as _;
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `mdmctl push-cert ...`
#[derive(Debug, Args)]
pub struct PushCertArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: PushCertVerb,
}

/// The verbs of `mdmctl push-cert`.
#[derive(Debug, Subcommand)]
pub enum PushCertVerb {
    /// Show the installed certificate: topic, expiry, days left, and a warning when it expires
    /// soon or APNs refused it.
    Show,
    /// Install a new or renewed certificate. Its topic must be the current one's: the server
    /// refuses a different topic (every enrolled device would stop receiving pushes).
    Upload(UploadArgs),
}

/// The files of `push-cert upload`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["cert", "p12"])))]
pub struct UploadArgs {
    /// PEM with the certificate (and chain) and, unless --key is given, its private key.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// PEM of the private key, when it is a separate file.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// A PKCS#12 (.p12/.pfx) file with the certificate and its key.
    #[arg(long, value_name = "FILE")]
    pub p12: Option<PathBuf>,
    /// Read the PKCS#12 password from the first line of stdin (else the password is empty).
    #[arg(long, requires = "p12")]
    pub password_stdin: bool,
    /// The APNs environment the certificate is for.
    #[arg(long, value_enum, default_value_t = Environment::Production)]
    pub environment: Environment,
}

/// An APNs environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// api.push.apple.com.
    Production,
    /// api.sandbox.push.apple.com.
    Sandbox,
}

/// Runs `mdmctl push-cert ...`.
pub async fn run(args: PushCertArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let certificate = match args.verb {
        PushCertVerb::Show => {
            let api = Api::connect(global, env)?;
            api.push_certificate()
                .await
                .context("reading the push certificate")?
        }
        PushCertVerb::Upload(upload) => {
            // Read the files (and the password) before connecting: a typo is a usage error.
            let body = upload_body(&upload, || read_password_line(std::io::stdin().lock()))?;
            let api = Api::connect(global, env)?;
            api.upload_push_certificate(&body)
                .await
                .context("uploading the push certificate")?
        }
    };
    match global.output {
        OutputFormat::Json => output::json(&certificate)?,
        OutputFormat::Table => output::text(&render(&certificate).to_string())?,
    }
    if let Some(warning) = &certificate.warning {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// The `PushCertificateUpload` body: the files base64-encoded; `password` is asked only with
/// --password-stdin.
pub fn upload_body(
    args: &UploadArgs,
    password: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<Value> {
    let mut body = Map::new();
    if let Some(cert) = &args.cert {
        body.insert("pem".into(), base64_file(cert)?.into());
    }
    if let Some(key) = &args.key {
        body.insert("key_pem".into(), base64_file(key)?.into());
    }
    if let Some(p12) = &args.p12 {
        body.insert("pkcs12".into(), base64_file(p12)?.into());
        let password = if args.password_stdin {
            password()?
        } else {
            String::new()
        };
        body.insert("password".into(), password.into());
    }
    let environment = match args.environment {
        Environment::Production => "production",
        Environment::Sandbox => "sandbox",
    };
    body.insert("environment".into(), environment.into());
    Ok(Value::Object(body))
}

fn base64_file(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError::new(format!("cannot read {}: {e}", path.display())))?;
    if bytes.is_empty() {
        return Err(UsageError::new(format!("{} is empty", path.display())).into());
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The first line of `input`, without its line ending.
fn read_password_line(mut input: impl BufRead) -> anyhow::Result<String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The certificate as `field value` rows.
pub fn render(c: &PushCertificate) -> Table {
    let mut table = Table::without_header();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut field = |name: &str, value: String| table.row([name.to_owned(), value]);
    field("topic", c.topic.clone());
    field("environment", c.environment.clone());
    field("not_after", text(&c.not_after));
    field("days_left", c.days_left.to_string());
    field("warning", text(&c.warning));
    field("subject", c.subject.clone());
    field("issuer", c.issuer.clone());
    field("serial_number", c.serial_number.clone());
    field("sha256", c.sha256.clone());
    field("not_before", text(&c.not_before));
    field("uploaded_at", text(&c.uploaded_at));
    field("uploaded_by", text(&c.uploaded_by));
    field("last_error", text(&c.last_error));
    field("last_error_at", text(&c.last_error_at));
    field("version", c.version.to_string());
    for (name, value) in &c.other {
        field(name, value.to_string());
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_p12_upload_carries_the_password_from_stdin() {
        let dir = tempfile::tempdir().expect("dir");
        let p12 = dir.path().join("push.p12");
        std::fs::write(&p12, b"P12").expect("write");
        let args = UploadArgs {
            cert: None,
            key: None,
            p12: Some(p12),
            password_stdin: true,
            environment: Environment::Sandbox,
        };
        let password = || read_password_line(&b"s3cret\r\nignored\n"[..]);
        let body = upload_body(&args, password).expect("body");
        assert_eq!(
            body,
            serde_json::json!({"pkcs12": "UDEy", "password": "s3cret", "environment": "sandbox"})
        );
    }
}
