//! Check-in handling (DESIGN.md §4): what each message does to the enrollment.
//!
//! | message            | effect                                                         |
//! |--------------------|----------------------------------------------------------------|
//! | Authenticate       | bind the certificate, store facts, start the enrollment afresh |
//! | TokenUpdate        | store push details (UnlockToken sealed); enrolled              |
//! | CheckOut           | checked out, with the device's user channels                   |
//! | UserAuthenticate   | declined (410): no digest-challenge user channels here         |
//! | Set/GetBootstrapToken | store sealed / return it to the same device                 |

use crate::error::Error;
use crate::identity::VerifiedIdentity;
use crate::store::{
    AuthenticateOutcome, Authentication, DeviceFacts, EnrollmentStore, TokenUpdateRecord,
};
use mdm_core::CheckinMessage;
use mdm_proto::v1::commands_client::CommandsClient;
use mdm_proto::v1::ClearQueueRequest;
use service_kit::secrets::SecretBox;
use tonic::transport::Channel;

/// Handles check-in messages from verified identities.
#[derive(Debug, Clone)]
pub struct CheckinService {
    store: EnrollmentStore,
    secrets: SecretBox,
    commands: CommandsClient<Channel>,
}

impl CheckinService {
    /// A handler over a store, sealing secrets with `secrets`; `commands` is told to clear a
    /// device's queue when it re-enrolls.
    pub fn new(
        store: EnrollmentStore,
        secrets: SecretBox,
        commands: CommandsClient<Channel>,
    ) -> CheckinService {
        CheckinService {
            store,
            secrets,
            commands,
        }
    }

    /// Handles one check-in body; answers the body to send back with HTTP 200.
    pub async fn handle(&self, identity: &VerifiedIdentity, body: &[u8]) -> Result<Vec<u8>, Error> {
        let message = mdm_core::parse_checkin(body)?;
        let enrollment = message.ids().enrollment()?;
        identity.check(&enrollment)?;
        let cert = identity.cert_sha256.as_slice();
        let device_id = enrollment.device_id.as_str();
        let response = match &message {
            CheckinMessage::Authenticate(m) => {
                if enrollment.is_user_channel() {
                    return Err(Error::IdentityMismatch(
                        "Authenticate is only sent on the device channel".into(),
                    ));
                }
                let facts = DeviceFacts {
                    serial_number: m.serial_number.clone(),
                    product_name: m.product_name.clone(),
                    model: m.model.clone(),
                    model_name: m.model_name.clone(),
                    device_name: m.device_name.clone(),
                    os_version: m.os_version.clone(),
                    build_version: m.build_version.clone(),
                    imei: m.imei.clone(),
                    meid: m.meid.clone(),
                };
                let outcome = self
                    .store
                    .authenticate(&Authentication {
                        id: &enrollment.id,
                        channel: enrollment.kind.into(),
                        cert_sha256: cert,
                        topic: Some(m.topic.as_str()),
                        facts: &facts,
                    })
                    .await?;
                let restarted = outcome == AuthenticateOutcome::Restarted;
                if restarted {
                    // A re-enrollment starts afresh: nothing queued for the old enrollment may
                    // run. If command-svc cannot be reached the device gets 503 and repeats the
                    // Authenticate, which lands here again (still an active enrollment).
                    self.commands
                        .clone()
                        .clear_queue(ClearQueueRequest {
                            enrollment_id: enrollment.id.clone(),
                        })
                        .await
                        .map_err(Error::CommandService)?;
                }
                tracing::info!(enrollment = %enrollment.id, restarted, "Authenticate");
                Vec::new()
            }
            CheckinMessage::TokenUpdate(m) => {
                let sealed_unlock_token = m
                    .unlock_token
                    .as_deref()
                    .map(|token| self.secrets.seal(token, &unlock_token_context(device_id)));
                self.store
                    .token_update(&TokenUpdateRecord {
                        id: &enrollment.id,
                        device_id,
                        channel: enrollment.kind.into(),
                        user_id: enrollment.user_id.as_deref(),
                        user_short_name: m.ids.user_short_name.as_deref(),
                        user_long_name: m.ids.user_long_name.as_deref(),
                        cert_sha256: cert,
                        push_token: &m.token,
                        push_magic: &m.push_magic,
                        topic: Some(m.topic.as_str()),
                        sealed_unlock_token,
                        awaiting_configuration: m.awaiting_configuration.unwrap_or(false),
                    })
                    .await?;
                tracing::info!(enrollment = %enrollment.id, "TokenUpdate");
                Vec::new()
            }
            CheckinMessage::CheckOut(_) => {
                self.store
                    .check_out(&enrollment.id, device_id, cert)
                    .await?;
                tracing::info!(enrollment = %enrollment.id, "CheckOut");
                Vec::new()
            }
            CheckinMessage::UserAuthenticate(_) => {
                // Only a managed device learns that user authentication is declined.
                self.store.authorize_device(device_id, cert).await?;
                return Err(Error::Declined);
            }
            CheckinMessage::SetBootstrapToken(m) => {
                let sealed = m.bootstrap_token.as_deref().map(|token| {
                    self.secrets
                        .seal(token, &bootstrap_token_context(device_id))
                });
                self.store
                    .set_bootstrap_token(device_id, cert, sealed.as_deref())
                    .await?;
                Vec::new()
            }
            CheckinMessage::GetBootstrapToken(_) => {
                let token = match self.store.bootstrap_token(device_id, cert).await? {
                    Some(sealed) => Some(
                        self.secrets
                            .open(&sealed, &bootstrap_token_context(device_id))?,
                    ),
                    None => None,
                };
                mdm_core::bootstrap_token_response(token.as_deref())
            }
        };
        Ok(response)
    }
}

/// Sealing context of a device's UnlockToken: a sealed value only opens in its own row.
pub fn unlock_token_context(device_id: &str) -> String {
    format!("unlock-token:{device_id}")
}

/// Sealing context of a device's BootstrapToken.
pub fn bootstrap_token_context(device_id: &str) -> String {
    format!("bootstrap-token:{device_id}")
}
