//! `mdmctl inspect-signature`: the operator's tool for a load-balancer set-up in `signature`
//! mode. Given a request body and its `Mdm-Signature` header, it says whether the signature
//! verifies, who signed it (subject, issuer, SHA-256 of the certificate) and, if not, why — the
//! same verdict the proxy reaches, because both run `mdm_pki::signature`.
//!
//! ```sh
//! mdmctl inspect-signature --body body.plist --signature sig.b64 --ca device-ca.pem
//! ```

use crate::exit::{Failure, UsageError};
use crate::output;
use clap::Args;
use mdm_pki::signature::{inspect, SignatureVerifier};
use mdm_pki::TrustAnchors;
use std::path::PathBuf;
use std::time::Duration;

/// `mdmctl inspect-signature ...`
#[derive(Debug, Args)]
pub struct InspectSignatureArgs {
    /// The request body exactly as the device sent it.
    #[arg(long, value_name = "FILE")]
    pub body: PathBuf,
    /// A file holding the Mdm-Signature header value (base64), or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub signature: PathBuf,
    /// PEM of the CA(s) that issue device identities; without it only the signature over the
    /// body is checked, not the certificate chain.
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// Seconds of clock skew tolerated on the certificate's validity period.
    #[arg(long, default_value_t = 300)]
    pub clock_skew: u64,
}

/// Prints the inspection; fails (exit 1) when the signature does not verify.
pub fn run(args: &InspectSignatureArgs) -> anyhow::Result<()> {
    let read = |path: &PathBuf| -> anyhow::Result<Vec<u8>> {
        if path.as_os_str() == "-" {
            let mut input = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut input)?;
            return Ok(input);
        }
        std::fs::read(path)
            .map_err(|e| UsageError::new(format!("cannot read {}: {e}", path.display())).into())
    };
    let body = read(&args.body)?;
    let header = read(&args.signature)?;
    let header = header.trim_ascii();
    let verifier = match &args.ca {
        Some(path) => Some(
            TrustAnchors::from_pem(&read(path)?, Duration::from_secs(args.clock_skew))
                .map(SignatureVerifier::new)
                .map_err(|e| UsageError::new(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let report = inspect(header, &body, verifier.as_ref(), now);
    let show = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
    let rows = [
        ("signer subject", show(&report.subject)),
        ("signer issuer", show(&report.issuer)),
        ("common name", show(&report.common_name)),
        (
            "certificate sha256",
            report.sha256.map(hex::encode).unwrap_or_else(|| "-".into()),
        ),
        ("digest algorithm", show(&report.digest_algorithm)),
        ("signature algorithm", show(&report.signature_algorithm)),
        (
            "signed attributes",
            report
                .signed_attributes
                .map_or("-", |a| if a { "yes" } else { "no" })
                .to_string(),
        ),
        (
            "chain checked",
            if report.chain_checked {
                "yes"
            } else {
                "no (pass --ca to check it)"
            }
            .to_string(),
        ),
    ];
    let mut text: String = rows
        .iter()
        .map(|(label, value)| format!("{label:<21}{value}\n"))
        .collect();
    match &report.verdict {
        Ok(()) => {
            text.push_str(&format!("{:<21}verifies\n", "verdict"));
            output::text(&text)
        }
        Err(why) => {
            text.push_str(&format!("{:<21}does NOT verify: {why}\n", "verdict"));
            output::text(&text)?;
            Err(Failure {
                message: format!("the signature does not verify: {why}"),
                hint: Some(
                    "check that the body is byte-for-byte what the device sent (a balancer must not re-encode it) and that --ca names the device CA".into(),
                ),
            }
            .into())
        }
    }
}
