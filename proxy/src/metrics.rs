//! The edge's Prometheus metrics: what devices send, how the edge answered, and why it refused.

use crate::error::ProxyError;
use mdm_proto::ErrorCode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of an HTTP answer.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `device` or `enrollment`.
    pub listener: &'static str,
    /// The HTTP status code.
    pub status: u16,
}

/// Labels of a device message.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MessageLabels {
    /// `checkin` or `report`.
    pub kind: &'static str,
    /// The MessageType or Status.
    pub message_type: &'static str,
}

/// Labels of a refused device.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthFailureLabels {
    /// Why the device was refused.
    pub cause: &'static str,
}

/// Labels of a device listener's TLS handshake.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandshakeLabels {
    /// `full` (the client certificate sent and verified) or `resumed` (a session kept from an
    /// earlier connection: see `tls::sessions`).
    pub kind: &'static str,
}

/// The edge's metrics, cheap to clone.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// HTTP answers by listener and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Device messages by kind and type.
    pub messages: Family<MessageLabels, Counter>,
    /// Refused device requests by cause.
    pub auth_failures: Family<AuthFailureLabels, Counter>,
    /// Time to verify an Mdm-Signature, in seconds.
    pub signature_verify_seconds: Histogram,
    /// 1 while enroll-svc's stream of admission changes is heard (cached admissions are used),
    /// 0 while it is not (every device request asks enroll-svc).
    pub admission_stream_up: Gauge,
    /// Completed TLS handshakes on the device listener, full or resumed.
    pub tls_handshakes: Family<HandshakeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            messages: Family::default(),
            auth_failures: Family::default(),
            // 50 µs .. ~0.4 s
            signature_verify_seconds: Histogram::new(exponential_buckets(0.000_05, 2.0, 14)),
            admission_stream_up: Gauge::default(),
            tls_handshakes: Family::default(),
        }
    }
}

impl Metrics {
    /// Metrics registered in `registry`.
    pub fn register(registry: &mut Registry) -> Metrics {
        let m = Metrics::default();
        registry.register(
            "mdm_http_requests",
            "HTTP answers by listener and status",
            m.requests.clone(),
        );
        registry.register(
            "mdm_device_messages",
            "Device messages by kind and type",
            m.messages.clone(),
        );
        registry.register(
            "mdm_auth_failures",
            "Device requests refused for their identity, by cause",
            m.auth_failures.clone(),
        );
        registry.register(
            "mdm_signature_verify_seconds",
            "Time to verify an Mdm-Signature header",
            m.signature_verify_seconds.clone(),
        );
        registry.register(
            "mdm_proxy_admission_stream_up",
            "1 while enroll-svc's stream of admission changes is heard and cached admissions are used",
            m.admission_stream_up.clone(),
        );
        registry.register(
            "mdm_proxy_tls_handshakes",
            "Completed TLS handshakes on the device listener, by kind: full, or resumed from a kept session",
            m.tls_handshakes.clone(),
        );
        registry.register(
            "mdm_proxy_client_faults",
            "Connections clients broke off (failed TLS or HTTP/2 handshakes, unreadable requests), by kind; logged at DEBUG",
            crate::pingora_log::CLIENT_FAULTS.clone(),
        );
        m
    }

    /// Counts an answer on `listener`.
    pub fn answered(&self, listener: &'static str, status: http::StatusCode) {
        self.requests
            .get_or_create(&RequestLabels {
                listener,
                status: status.as_u16(),
            })
            .inc();
    }

    /// Counts a device message.
    pub fn message(&self, kind: &'static str, message_type: &'static str) {
        self.messages
            .get_or_create(&MessageLabels { kind, message_type })
            .inc();
    }

    /// Counts a refusal of the device's identity, if `error` is one.
    pub fn refused(&self, error: &ProxyError) {
        let cause = match error {
            ProxyError::NoClientCertificate => "no_client_certificate",
            ProxyError::IdentityMismatch(_) => "identity_mismatch",
            ProxyError::BadSignature(_) => "bad_signature",
            ProxyError::UntrustedForwardedCertificate(_) => "untrusted_forwarded_certificate",
            ProxyError::Backend {
                code: ErrorCode::AuthenticationFailed,
                ..
            } => "certificate_binding",
            ProxyError::Backend {
                code: ErrorCode::NotManaged,
                ..
            } => "not_managed",
            _ => return,
        };
        self.auth_failures
            .get_or_create(&AuthFailureLabels { cause })
            .inc();
    }
}
