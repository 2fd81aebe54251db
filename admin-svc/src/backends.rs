//! The gRPC clients of the three services, each over an [`Upstream`]: every replica of a service
//! gets requests, and one that dies stops getting them.

use crate::config::Services;
use mdm_proto::clients;
use mdm_proto::v1::commands_client::CommandsClient;
use mdm_proto::v1::declarative_client::DeclarativeClient;
use mdm_proto::v1::diagnostics_client::DiagnosticsClient;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::events_client::EventsClient;
use mdm_proto::v1::provisioning_client::ProvisioningClient;
use mdm_proto::v1::push_client::PushClient;
use service_kit::upstream::{Upstream, UpstreamError, UpstreamOptions};
use std::time::Duration;
use tonic::transport::Channel;

/// The services' replicas.
#[derive(Debug, Clone)]
pub struct Backends {
    enroll: Upstream,
    command: Upstream,
    push: Upstream,
}

impl Backends {
    /// Clients for the configured services (nothing is connected yet).
    pub fn new(config: &Services) -> Result<Backends, UpstreamError> {
        let options = UpstreamOptions {
            timeout: Some(Duration::from_millis(config.timeout_ms)),
            ..UpstreamOptions::default()
        };
        Ok(Backends {
            enroll: Upstream::new("enroll-svc", &config.enroll_url, options.clone())?,
            command: Upstream::new("command-svc", &config.command_url, options.clone())?,
            push: Upstream::new("push-svc", &config.push_url, options)?,
        })
    }

    /// Health checks of the services, for `/peers`.
    pub fn peers(&self) -> Vec<(&'static str, service_kit::observe::ReadinessCheck)> {
        vec![
            ("enroll-svc", self.enroll.ready_check()),
            ("command-svc", self.command.ready_check()),
            ("push-svc", self.push.ready_check()),
        ]
    }

    /// enroll-svc's enrollments.
    pub fn enroll(&self) -> EnrollmentClient<Channel> {
        clients::enrollment(self.enroll.channel())
    }

    /// enroll-svc's provisioning: tokens, certificates.
    pub fn provisioning(&self) -> ProvisioningClient<Channel> {
        clients::provisioning(self.enroll.channel())
    }

    /// enroll-svc's declarations, sets and device status (DDM).
    pub fn declarative(&self) -> DeclarativeClient<Channel> {
        clients::declarative(self.enroll.channel())
    }

    /// command-svc.
    pub fn commands(&self) -> CommandsClient<Channel> {
        clients::commands(self.command.channel())
    }

    /// push-svc.
    pub fn push(&self) -> PushClient<Channel> {
        clients::push(self.push.channel())
    }

    /// The event outbox of `source` (enroll-svc, command-svc or push-svc).
    pub fn events(&self, source: &str) -> EventsClient<Channel> {
        clients::events(self.upstream(source).channel())
    }

    /// What `service` (enroll-svc, command-svc or push-svc) finds wrong with itself.
    pub fn diagnostics(&self, service: &str) -> DiagnosticsClient<Channel> {
        clients::diagnostics(self.upstream(service).channel())
    }

    fn upstream(&self, service: &str) -> &Upstream {
        match service {
            "enroll-svc" => &self.enroll,
            "command-svc" => &self.command,
            _ => &self.push,
        }
    }
}
