//! gRPC clients of the services behind the edge.
//!
//! Channels are created lazily on first use, inside pingora's runtime (a tonic channel made
//! before the runtime exists has nowhere to run its connection task), then shared by every
//! request: one long-lived HTTP/2 connection per service, not one per request.

use crate::config::Services;
use crate::error::ProxyError;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::{CheckinRequest, DeviceIdentity};
use std::sync::OnceLock;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The services' clients.
#[derive(Debug)]
pub struct Backends {
    enroll_endpoint: Endpoint,
    enroll: OnceLock<EnrollmentClient<Channel>>,
}

impl Backends {
    /// Clients for the configured services (nothing is connected yet).
    pub fn new(config: &Services) -> Result<Backends, tonic::transport::Error> {
        let timeout = Duration::from_millis(config.timeout_ms);
        let enroll_endpoint = Endpoint::from_shared(config.enroll_url.clone())?
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        Ok(Backends {
            enroll_endpoint,
            enroll: OnceLock::new(),
        })
    }

    fn enroll(&self) -> EnrollmentClient<Channel> {
        self.enroll
            .get_or_init(|| {
                EnrollmentClient::new(self.enroll_endpoint.connect_lazy())
                    .max_decoding_message_size(MAX_MESSAGE_BYTES)
                    .max_encoding_message_size(MAX_MESSAGE_BYTES)
            })
            .clone()
    }

    /// Forwards a check-in message; answers the body for the device.
    pub async fn checkin(&self, identity: DeviceIdentity, body: Vec<u8>) -> Result<Vec<u8>, ProxyError> {
        let request = CheckinRequest {
            identity: Some(identity),
            body,
        };
        self.enroll()
            .checkin(request)
            .await
            .map(|response| response.into_inner().body)
            .map_err(|status| ProxyError::backend("enroll-svc", &status))
    }
}
