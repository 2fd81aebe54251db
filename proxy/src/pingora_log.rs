//! What pingora logs, made fit for an operator's log. pingora writes through the `log` crate and
//! reports a client's doing at ERROR: every failed TLS handshake, every HTTP/2 client that
//! hangs up before its preface, every request it cannot read (a Go load generator alone made
//! 250–350 such lines per benchmark run). Some of those lines quote the request: one with an
//! invalid URI wrote half a megabyte, one with a malformed header wrote its bearer token.
//!
//! So every `log` record passes through [`EdgeLogger`] before it reaches `tracing`:
//! - the client-caused ones are counted in `mdm_proxy_client_faults{kind}` and logged at DEBUG;
//! - every message is cut to [`MAX_MESSAGE`] bytes, and anything after an `authorization` or
//!   `bearer` is masked, so no credential a client sent can reach the log.

use log::{Level, Log, Metadata, Record};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use std::sync::LazyLock;

/// The longest message written, in bytes.
pub const MAX_MESSAGE: usize = 512;

/// Labels of `mdm_proxy_client_faults`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FaultLabels {
    /// `tls_handshake`, `h2_handshake`, `read`, `write`.
    pub kind: &'static str,
}

/// Client-caused connection failures pingora reported, by kind. Registered by
/// [`crate::metrics::Metrics::register`]; counted from the first connection on.
pub static CLIENT_FAULTS: LazyLock<Family<FaultLabels, Counter>> = LazyLock::new(Family::default);

/// pingora's messages for what clients do, by prefix, with the kind each is counted as.
const CLIENT_FAULT_PREFIXES: [(&str, &str); 6] = [
    ("Downstream handshake error", "tls_handshake"),
    ("Downstream handshake timeout", "tls_handshake"),
    ("H2 handshake error", "h2_handshake"),
    ("HTTP server fails to read from downstream", "read"),
    ("HTTP server fails to write to downstream", "write"),
    ("HTTP server fails to finish the request", "write"),
];

/// The process's `log` logger: sanitizes, classifies, then hands records to `tracing`.
#[derive(Debug)]
pub struct EdgeLogger;

impl Log for EdgeLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &Record<'_>) {
        let message = sanitize(&record.args().to_string());
        let mut level = record.level();
        // pingora's messages, and ours in the same words (`http_app`).
        if let Some(kind) = client_fault(&message) {
            CLIENT_FAULTS.get_or_create(&FaultLabels { kind }).inc();
            level = Level::Debug;
        }
        let _ = tracing_log::format_trace(
            &Record::builder()
                .args(format_args!("{message}"))
                .level(level)
                .target(record.target())
                .module_path(record.module_path())
                .file(record.file())
                .line(record.line())
                .build(),
        );
    }

    fn flush(&self) {}
}

/// Installs [`EdgeLogger`] and the `tracing` subscriber (`service_kit::telemetry`). Call once,
/// before pingora starts.
pub fn init(config: &service_kit::telemetry::LogConfig) {
    static LOGGER: EdgeLogger = EdgeLogger;
    let installed = log::set_logger(&LOGGER).is_ok();
    service_kit::telemetry::init(config);
    if installed {
        // Records below what `tracing` keeps are not even formatted; client faults arrive at
        // ERROR, so they are counted whatever the filter.
        let max = tracing::level_filters::LevelFilter::current();
        log::set_max_level(match max {
            tracing::level_filters::LevelFilter::OFF => log::LevelFilter::Error,
            tracing::level_filters::LevelFilter::ERROR => log::LevelFilter::Error,
            tracing::level_filters::LevelFilter::WARN => log::LevelFilter::Warn,
            tracing::level_filters::LevelFilter::INFO => log::LevelFilter::Info,
            tracing::level_filters::LevelFilter::DEBUG => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        });
    }
}

fn client_fault(message: &str) -> Option<&'static str> {
    CLIENT_FAULT_PREFIXES
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map(|(_, kind)| *kind)
}

/// `message` with credentials masked and cut to [`MAX_MESSAGE`] bytes.
pub fn sanitize(message: &str) -> String {
    let masked = mask_queries(&mask_credentials(message));
    mdm_proto::bounded(&masked, MAX_MESSAGE).into_owned()
}

/// Masks every query string: an enrollment URL carries its token there (`?token=`), and a
/// request line echoed in an error would carry it into the log.
fn mask_queries(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find('?') {
        let after = &rest[at + 1..];
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        out.push_str(&rest[..=at]);
        if end > 0 {
            out.push_str("[redacted]");
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Masks what follows `authorization` or `bearer` (any case) up to the end of the line or
/// quote: a header a client sent, echoed in an error.
fn mask_credentials(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    let mut out = String::with_capacity(message.len());
    let mut from = 0;
    while let Some(at) = ["authorization", "bearer"]
        .iter()
        .filter_map(|word| lower[from..].find(word).map(|i| (from + i, word.len())))
        .min()
    {
        let (start, len) = at;
        let value_start = start + len;
        let value_end = lower[value_start..]
            .find(['\r', '\n', '"', '\''])
            .map_or(lower.len(), |i| value_start + i);
        out.push_str(&message[from..value_start]);
        out.push_str(" [redacted]");
        from = value_end;
    }
    out.push_str(&message[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_masked_wherever_they_appear() {
        let leaked = "invalid header: \"Authorization: Bearer s3cr3t-token\" in GET /v1";
        let clean = sanitize(leaked);
        assert!(!clean.contains("s3cr3t"), "{clean}");
        assert!(
            clean.contains("[redacted]") && clean.ends_with("in GET /v1"),
            "{clean}"
        );
        let raw = "request head: authorization: bearer abc\r\nhost: x";
        assert!(!sanitize(raw).contains("abc"), "{}", sanitize(raw));
        assert_eq!(sanitize("nothing to hide"), "nothing to hide");
        let line = "buf: GET /enroll?token=s3cr3t&x=1 HTTP/9.9\r\nHost: a";
        assert_eq!(
            sanitize(line),
            "buf: GET /enroll?[redacted] HTTP/9.9\r\nHost: a"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let long = format!("invalid URI /{}", "a".repeat(500_000));
        assert!(sanitize(&long).len() <= MAX_MESSAGE);
    }

    #[test]
    fn client_faults_are_recognised_by_their_prefix() {
        assert_eq!(
            client_fault("Downstream handshake error from 127.0.0.1:5: ssl"),
            Some("tls_handshake")
        );
        assert_eq!(client_fault("H2 handshake error x"), Some("h2_handshake"));
        assert_eq!(client_fault("Accept() failed"), None);
    }
}
