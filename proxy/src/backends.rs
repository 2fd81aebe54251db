//! gRPC clients of the services behind the edge.
//!
//! Channels are created lazily on first use, inside pingora's runtime (a tonic channel made
//! before the runtime exists has nowhere to run its connection task), then shared by every
//! request: long-lived HTTP/2 connections per service, not one per request.

use crate::config::Services;
use crate::error::ProxyError;
use mdm_proto::v1::commands_client::CommandsClient;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::provisioning_client::ProvisioningClient;
use mdm_proto::v1::{CheckinRequest, DeviceIdentity, ReportRequest};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// One service's lazily connected channel.
#[derive(Debug)]
struct LazyChannel {
    endpoint: Endpoint,
    channel: OnceLock<Channel>,
}

impl LazyChannel {
    fn new(url: &str, timeout: Duration) -> Result<LazyChannel, tonic::transport::Error> {
        let endpoint = Endpoint::from_shared(url.to_string())?
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_while_idle(true);
        Ok(LazyChannel {
            endpoint,
            channel: OnceLock::new(),
        })
    }

    fn get(&self) -> Channel {
        self.channel
            .get_or_init(|| self.endpoint.connect_lazy())
            .clone()
    }
}

/// The services' clients.
#[derive(Debug)]
pub struct Backends {
    enroll: LazyChannel,
    command: LazyChannel,
}

impl Backends {
    /// Clients for the configured services (nothing is connected yet).
    pub fn new(config: &Services) -> Result<Backends, tonic::transport::Error> {
        let timeout = Duration::from_millis(config.timeout_ms);
        Ok(Backends {
            enroll: LazyChannel::new(&config.enroll_url, timeout)?,
            command: LazyChannel::new(&config.command_url, timeout)?,
        })
    }

    /// Health checks of the services behind the edge, for `/peers` and `mdm_peer_up`. Each
    /// takes its channel when it runs, inside the runtime (see the module's note).
    pub fn peers(self: &Arc<Self>) -> Vec<(&'static str, service_kit::observe::ReadinessCheck)> {
        let check = |pick: fn(&Backends) -> &LazyChannel| -> service_kit::observe::ReadinessCheck {
            let backends = Arc::clone(self);
            Arc::new(move || service_kit::observe::grpc_ready(pick(&backends).get())())
        };
        vec![
            ("enroll-svc", check(|b| &b.enroll)),
            ("command-svc", check(|b| &b.command)),
        ]
    }

    /// A client of enroll-svc (cheap: clones share one connection).
    pub fn enroll_client(&self) -> EnrollmentClient<Channel> {
        EnrollmentClient::new(self.enroll.get())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// A client of command-svc (cheap: clones share one connection).
    pub fn command_client(&self) -> CommandsClient<Channel> {
        CommandsClient::new(self.command.get())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// A client of enroll-svc's provisioning service: CA, SCEP, enrollment profiles and tokens,
    /// certificate status (same connection as [`Backends::enroll_client`]).
    pub fn provisioning_client(&self) -> ProvisioningClient<Channel> {
        ProvisioningClient::new(self.enroll.get())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// Forwards a check-in message; answers the body for the device.
    pub async fn checkin(
        &self,
        identity: DeviceIdentity,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ProxyError> {
        let request = CheckinRequest {
            identity: Some(identity),
            body,
        };
        self.enroll_client()
            .checkin(request)
            .await
            .map(|response| response.into_inner().body)
            .map_err(|status| ProxyError::backend("enroll-svc", &status))
    }

    /// Forwards a command report; answers the next command (or an empty body).
    pub async fn report(
        &self,
        identity: DeviceIdentity,
        body: Vec<u8>,
        connection_id: String,
    ) -> Result<Vec<u8>, ProxyError> {
        let request = ReportRequest {
            identity: Some(identity),
            body,
            connection_id,
        };
        self.command_client()
            .report(request)
            .await
            .map(|response| response.into_inner().body)
            .map_err(|status| ProxyError::backend("command-svc", &status))
    }
}
