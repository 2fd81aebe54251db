//! gRPC clients of the services behind the edge, each over an [`Upstream`]: requests spread
//! over every healthy replica of a service, and a replica that dies stops getting them.
//!
//! The connections are made on first use, inside pingora's runtime (a tonic channel made before
//! the runtime exists has nowhere to run its connection task), then shared by every request.

use crate::config::Services;
use crate::error::ProxyError;
use mdm_proto::clients;
use mdm_proto::report::ReportFacts;
use mdm_proto::v1::commands_client::CommandsClient;
use mdm_proto::v1::enrollment_client::EnrollmentClient;
use mdm_proto::v1::provisioning_client::ProvisioningClient;
use mdm_proto::v1::{CheckinRequest, DeviceIdentity, FetchAssetRequest};
use service_kit::upstream::{Upstream, UpstreamError, UpstreamOptions};
use std::borrow::Cow;
use std::time::Duration;
use tonic::transport::Channel;

/// The media type of a plist answer (check-ins, commands).
pub const PLIST: &str = "application/xml";
/// The media type of the DeclarativeManagement endpoints' answers.
pub const JSON: &str = "application/json";

/// What a service answers for the device: the body and its media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The body (often empty).
    pub body: Vec<u8>,
    /// [`PLIST`], [`JSON`], or an asset's own.
    pub content_type: Cow<'static, str>,
}

/// The services' clients.
#[derive(Debug)]
pub struct Backends {
    enroll: Upstream,
    command: Upstream,
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
            command: Upstream::new("command-svc", &config.command_url, options)?,
        })
    }

    /// Health checks of the services behind the edge, for `/peers` and `mdm_peer_up`.
    pub fn peers(&self) -> Vec<(&'static str, service_kit::observe::ReadinessCheck)> {
        vec![
            ("enroll-svc", self.enroll.ready_check()),
            ("command-svc", self.command.ready_check()),
        ]
    }

    /// A client of enroll-svc, on its next replica.
    pub fn enroll_client(&self) -> EnrollmentClient<Channel> {
        clients::enrollment(self.enroll.channel())
    }

    /// A client of command-svc, on its next replica.
    pub fn command_client(&self) -> CommandsClient<Channel> {
        clients::commands(self.command.channel())
    }

    /// A client of enroll-svc's provisioning service: CA, SCEP, enrollment profiles and tokens.
    pub fn provisioning_client(&self) -> ProvisioningClient<Channel> {
        clients::provisioning(self.enroll.channel())
    }

    /// Forwards a check-in message; answers what to send the device.
    pub async fn checkin(
        &self,
        identity: DeviceIdentity,
        body: Vec<u8>,
    ) -> Result<Answer, ProxyError> {
        let request = CheckinRequest {
            identity: Some(identity),
            body,
        };
        self.enroll_client()
            .checkin(request)
            .await
            .map(|response| {
                let response = response.into_inner();
                Answer {
                    // The DeclarativeManagement endpoints answer JSON; everything else a plist.
                    content_type: Cow::Borrowed(if response.content_type == JSON {
                        JSON
                    } else {
                        PLIST
                    }),
                    body: response.body,
                }
            })
            .map_err(|status| ProxyError::backend("enroll-svc", &status))
    }

    /// The data of asset `identifier` for the device presenting the certificate `cert_sha256`
    /// (enroll-svc decides whether it holds the asset).
    pub async fn asset(&self, cert_sha256: &[u8], identifier: &str) -> Result<Answer, ProxyError> {
        clients::declarative(self.enroll.channel())
            .fetch_asset(FetchAssetRequest {
                cert_sha256: cert_sha256.to_vec(),
                identifier: identifier.to_owned(),
            })
            .await
            .map(|response| {
                let response = response.into_inner();
                Answer {
                    body: response.data,
                    content_type: Cow::Owned(response.content_type),
                }
            })
            .map_err(|status| ProxyError::backend("enroll-svc", &status))
    }

    /// Forwards a command report; answers the next command (or an empty body).
    pub async fn report(
        &self,
        identity: DeviceIdentity,
        facts: ReportFacts,
        body: Vec<u8>,
        connection_id: String,
    ) -> Result<Vec<u8>, ProxyError> {
        let request = facts.into_request(identity, body, connection_id);
        self.command_client()
            .report(request)
            .await
            .map(|response| response.into_inner().body)
            .map_err(|status| ProxyError::backend("command-svc", &status))
    }
}
