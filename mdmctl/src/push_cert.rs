//! `mdmctl push-cert show|list|upload`: the MDM push certificates push-svc uses (their topics and
//! when they expire), and installing a renewed one or one for another topic.

use crate::cli::{api_enum, GlobalArgs, OutputFormat};
use crate::client::Api;
use crate::config::Env;
use crate::exit::UsageError;
use crate::output;
use crate::record;
use crate::table::Table;
use anyhow::Context;
use base64::Engine as _;
use clap::{ArgGroup, Args, Subcommand};
use mdm_api::push::{
    PemUpload, Pkcs12Upload, PushCertificate, PushCertificateUpload, PushEnvironment,
};
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
    /// Show the first topic's certificate: topic, expiry, days left, and a warning when it
    /// expires soon or APNs refused it.
    Show,
    /// List every topic's certificate (one per push topic this server pushes).
    List,
    /// Install a new or renewed certificate: it replaces the certificate of its own topic. A
    /// topic the server does not push yet is refused unless --new-topic says to add it (a
    /// renewal whose topic changed would cut off every device of the old one).
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
    /// The APNs environment the certificate is for: production or sandbox.
    #[arg(long, value_name = "ENV", default_value = "production",
          value_parser = api_enum::<PushEnvironment>)]
    pub environment: PushEnvironment,
    /// Add the certificate's topic as another one this server pushes (a second organisation,
    /// devices migrated from another server), instead of renewing an existing topic.
    #[arg(long)]
    pub new_topic: bool,
}

/// The fields shown first: what the certificate is for and when it must be renewed.
const SHOWN_FIRST: &[&str] = &["topic", "environment", "not_after", "days_left", "warning"];

/// Runs `mdmctl push-cert ...`.
pub async fn run(args: PushCertArgs, global: &GlobalArgs, env: &Env) -> anyhow::Result<()> {
    let certificate = match args.verb {
        PushCertVerb::List => {
            let api = Api::connect(global, env)?;
            let certificates = api
                .push_certificates()
                .await
                .context("listing the push certificates")?;
            match global.output {
                OutputFormat::Json => output::json(&certificates.json)?,
                OutputFormat::Table => {
                    if certificates.is_empty() {
                        eprintln!("no push certificate is installed");
                    }
                    output::text(&list(&certificates.items).to_string())?
                }
            }
            return Ok(());
        }
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
        OutputFormat::Json => output::json(&certificate.json)?,
        OutputFormat::Table => {
            output::text(&record::rows(&certificate.json, SHOWN_FIRST).to_string())?
        }
    }
    if let Some(warning) = &certificate.value.warning {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

/// The `PushCertificateUpload` body: the files base64-encoded; `password` is asked only with
/// --password-stdin.
pub fn upload_body(
    args: &UploadArgs,
    password: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<PushCertificateUpload> {
    let environment = Some(args.environment);
    if let Some(p12) = &args.p12 {
        return Ok(PushCertificateUpload::Pkcs12(Pkcs12Upload {
            pkcs12: base64_file(p12)?,
            password: args.password_stdin.then(password).transpose()?,
            environment,
            new_topic: args.new_topic.then_some(true),
        }));
    }
    // clap requires one of --cert and --p12.
    let Some(cert) = &args.cert else {
        return Err(UsageError::new("give --cert or --p12").into());
    };
    Ok(PushCertificateUpload::Pem(PemUpload {
        pem: base64_file(cert)?,
        key_pem: args.key.as_deref().map(base64_file).transpose()?,
        environment,
        new_topic: args.new_topic.then_some(true),
    }))
}

/// One row per topic: what it is, where it pushes, and when it must be renewed.
fn list(certificates: &[PushCertificate]) -> Table {
    let mut table = Table::new(["TOPIC", "ENVIRONMENT", "NOT AFTER", "DAYS LEFT", "WARNING"]);
    for c in certificates {
        table.row([
            c.topic.clone(),
            c.environment.clone(),
            c.not_after.clone().unwrap_or_default(),
            c.days_left.to_string(),
            c.warning.clone().unwrap_or_default(),
        ]);
    }
    table
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
            environment: PushEnvironment::Sandbox,
            new_topic: false,
        };
        let password = || read_password_line(&b"s3cret\r\nignored\n"[..]);
        let body = upload_body(&args, password).expect("body");
        assert_eq!(
            serde_json::to_value(body).expect("json"),
            serde_json::json!({"pkcs12": "UDEy", "password": "s3cret", "environment": "sandbox"})
        );
    }

    #[test]
    fn a_pem_upload_carries_the_key_apart_and_a_new_topic_when_given() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, key) = (dir.path().join("push.pem"), dir.path().join("push.key"));
        std::fs::write(&cert, b"CERT").expect("write");
        std::fs::write(&key, b"KEY").expect("write");
        let args = UploadArgs {
            cert: Some(cert),
            key: Some(key),
            p12: None,
            password_stdin: false,
            environment: PushEnvironment::Production,
            new_topic: true,
        };
        let body = upload_body(&args, || unreachable!("no password for PEM")).expect("body");
        assert_eq!(
            serde_json::to_value(body).expect("json"),
            serde_json::json!({"pem": "Q0VSVA==", "key_pem": "S0VZ", "environment": "production", "new_topic": true})
        );
    }
}
