//! The gRPC clients of the three services. Channels connect lazily and are shared by every
//! request: one long-lived HTTP/2 connection per service, not one per request.

use crate::config::Services;
use mdm_proto::v1::commands_client::CommandsClient;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::provisioning_client::ProvisioningClient;
use mdm_proto::v1::push_client::PushClient;
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// The largest message either way: a command with an embedded profile, a page of results.
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// The services' channels.
#[derive(Debug, Clone)]
pub struct Backends {
    enroll: Channel,
    command: Channel,
    push: Channel,
}

impl Backends {
    /// Clients for the configured services (nothing is connected yet).
    pub fn new(config: &Services) -> Result<Backends, tonic::transport::Error> {
        let timeout = Duration::from_millis(config.timeout_ms);
        let channel = |url: &str| -> Result<Channel, tonic::transport::Error> {
            Ok(Endpoint::from_shared(url.to_owned())?
                .timeout(timeout)
                .connect_timeout(Duration::from_secs(3))
                .tcp_nodelay(true)
                .http2_keep_alive_interval(Duration::from_secs(30))
                .keep_alive_while_idle(true)
                .connect_lazy())
        };
        Ok(Backends {
            enroll: channel(&config.enroll_url)?,
            command: channel(&config.command_url)?,
            push: channel(&config.push_url)?,
        })
    }

    /// Health checks of the services, for `/peers`.
    pub fn peers(&self) -> Vec<(&'static str, service_kit::observe::ReadinessCheck)> {
        vec![
            (
                "enroll-svc",
                service_kit::observe::grpc_ready(self.enroll.clone()),
            ),
            (
                "command-svc",
                service_kit::observe::grpc_ready(self.command.clone()),
            ),
            (
                "push-svc",
                service_kit::observe::grpc_ready(self.push.clone()),
            ),
        ]
    }

    /// enroll-svc's enrollments.
    pub fn enroll(&self) -> EnrollmentClient<Channel> {
        EnrollmentClient::new(self.enroll.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// enroll-svc's provisioning: tokens, certificates.
    pub fn provisioning(&self) -> ProvisioningClient<Channel> {
        ProvisioningClient::new(self.enroll.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// command-svc.
    pub fn commands(&self) -> CommandsClient<Channel> {
        CommandsClient::new(self.command.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// push-svc.
    pub fn push(&self) -> PushClient<Channel> {
        PushClient::new(self.push.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}
