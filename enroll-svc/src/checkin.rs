//! Check-in handling (docs/architecture.md §4): what each message does to the enrollment.
//!
//! | message            | effect                                                         |
//! |--------------------|----------------------------------------------------------------|
//! | Authenticate       | bind the certificate, store facts, start the enrollment afresh |
//! | TokenUpdate        | store push details (UnlockToken sealed); enrolled              |
//! | CheckOut           | checked out, with the device's user channels                   |
//! | UserAuthenticate   | declined (410): no digest-challenge user channels here         |
//! | Set/GetBootstrapToken | store sealed / return it to the same device                 |
//! | DeclarativeManagement | answer the device's sync, store its status ([`crate::declarative`]) |

use crate::admissions::{Admissions, Event};
use crate::declarative::served::Channel;
use crate::declarative::sync::Answer;
use crate::declarative::DeclarativeStore;
use crate::error::Error;
use crate::metrics::{CheckinLabels, Metrics};
use crate::push_targets::PushTargets;
use crate::store::{
    AuthenticateOutcome, Authentication, DeviceFacts, EnrollmentStore, TokenUpdateRecord,
};
use mdm_core::CheckinMessage;
use mdm_proto::VerifiedIdentity;
use service_kit::secrets::SecretBox;

/// Handles check-in messages from verified identities.
#[derive(Debug, Clone)]
pub struct CheckinService {
    store: EnrollmentStore,
    declarative: DeclarativeStore,
    secrets: SecretBox,
    metrics: Metrics,
    push: Option<PushTargets>,
    admissions: Option<Admissions>,
}

impl CheckinService {
    /// A handler over a store, sealing secrets with `secrets`.
    pub fn new(store: EnrollmentStore, secrets: SecretBox) -> CheckinService {
        CheckinService {
            declarative: DeclarativeStore::new(store.db().clone()),
            store,
            secrets,
            metrics: Metrics::default(),
            push: None,
            admissions: None,
        }
    }

    /// Announces each Authenticate and CheckOut to the edges, whose cached admissions of the
    /// device are stale from then on. Without it (tools, store-level tests) nothing is announced.
    pub fn with_admissions(mut self, admissions: Admissions) -> CheckinService {
        self.admissions = Some(admissions);
        self
    }

    /// Registers push targets with push-svc at TokenUpdate and removes them at CheckOut (see
    /// [`crate::push_targets`] for the ordering). Without it (tools, store-level tests) targets
    /// are not kept.
    pub fn with_push(mut self, push: PushTargets) -> CheckinService {
        self.push = Some(push);
        self
    }

    /// Counts check-ins into `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> CheckinService {
        self.metrics = metrics;
        self
    }

    /// Handles one check-in body; answers what to send back with HTTP 200. Every outcome is
    /// counted by message type.
    pub async fn handle(&self, identity: &VerifiedIdentity, body: &[u8]) -> Result<Answer, Error> {
        let message = match mdm_core::parse_checkin(body) {
            Ok(message) => message,
            Err(e) => {
                let error = Error::from(e);
                self.count("unparsed", Err(&error));
                return Err(error);
            }
        };
        let result = self.handle_message(identity, &message, body).await;
        self.count(message.message_type(), result.as_ref().map(|_| ()));
        result
    }

    /// Checks that the device channel presents its bound certificate (binding it at the first
    /// use of an imported device's or a renewal's, and telling the edges when it did).
    async fn authorize(&self, device_id: &str, cert: &[u8]) -> Result<(), Error> {
        if self.store.authorize_device(device_id, cert).await?.rebound {
            self.announce(device_id).await;
        }
        Ok(())
    }

    /// Tells the edges that `device_id`'s admissions changed.
    async fn announce(&self, device_id: &str) {
        if let Some(admissions) = &self.admissions {
            admissions
                .publish(Event::Device(device_id.to_owned()))
                .await;
        }
    }

    fn count(&self, message_type: &'static str, outcome: Result<(), &Error>) {
        let outcome = match outcome {
            Ok(()) => "ok",
            Err(error) => error.code().as_str(),
        };
        self.metrics
            .checkins
            .get_or_create(&CheckinLabels {
                message_type,
                outcome,
            })
            .inc();
    }

    /// Handles one parsed check-in; answers what to send back with HTTP 200.
    async fn handle_message(
        &self,
        identity: &VerifiedIdentity,
        message: &CheckinMessage,
        body: &[u8],
    ) -> Result<Answer, Error> {
        let enrollment = message.ids().enrollment()?;
        identity.speaks_for(&enrollment)?;
        let cert = identity.cert_sha256().as_bytes().as_slice();
        let device_id = enrollment.device_id.as_str();
        let response = match message {
            CheckinMessage::Authenticate(m) => {
                if enrollment.is_user_channel() {
                    return Err(Error::IdentityMismatch(
                        "Authenticate is only sent on the device channel".into(),
                    ));
                }
                let facts = device_facts(m);
                let authenticated = self
                    .store
                    .authenticate(&Authentication {
                        id: &enrollment.id,
                        channel: enrollment.kind.into(),
                        cert_sha256: cert,
                        cert_common_name: identity.cert_common_name(),
                        topic: Some(m.topic.as_str()),
                        facts: &facts,
                        message: body,
                    })
                    .await;
                if let Err(Error::RebindRefused(_)) = &authenticated {
                    self.metrics.rebind_refused.inc();
                }
                let authenticated = authenticated?;
                self.announce(device_id).await;
                // A re-enrollment starts afresh: commands queued for the earlier generation are
                // never served (command-svc compares generations), so nothing else is called.
                match authenticated.outcome {
                    AuthenticateOutcome::Rebound(proof) => {
                        tracing::info!(target: "audit", enrollment = %enrollment.id, proof = proof.as_str(),
                            generation = authenticated.generation, "Authenticate re-bound the enrollment to a new certificate");
                    }
                    outcome => {
                        tracing::info!(enrollment = %enrollment.id, restarted = outcome == AuthenticateOutcome::Restarted,
                            generation = authenticated.generation, "Authenticate");
                    }
                }
                Vec::new()
            }
            CheckinMessage::TokenUpdate(m) => {
                let without_secret = without_unlock_token(body, m.unlock_token.is_some());
                if let Some(push) = &self.push {
                    // Authorized first, so that an unmanaged caller registers nothing; push-svc
                    // before our own write, so that its fault leaves nothing half-applied.
                    self.authorize(device_id, cert).await?;
                    push.register(&enrollment.id, device_id, &m.token, &m.push_magic, &m.topic)
                        .await?;
                }
                let stored = self
                    .store
                    .token_update(&self.token_update_record(&enrollment, m, cert, &without_secret))
                    .await;
                if let (Err(Error::NotManaged(_)), Some(push)) = (&stored, &self.push) {
                    // Checked out between the authorization and the write: take the target
                    // back. Other failures leave it: it is the device's real token, and the
                    // device repeats the TokenUpdate after the 503.
                    if let Err(error) = push.remove(&enrollment.id, false).await {
                        tracing::warn!(enrollment = %enrollment.id, %error, "stale push target left registered");
                    }
                }
                stored?;
                tracing::info!(enrollment = %enrollment.id, "TokenUpdate");
                Vec::new()
            }
            CheckinMessage::CheckOut(_) => {
                let mut removed = None;
                if let Some(push) = &self.push {
                    // Only the enrolled device itself may take its push target away; push-svc
                    // first, because the device will not repeat a CheckOut.
                    self.authorize(device_id, cert).await?;
                    let record = self.store.get(&enrollment.id).await?;
                    push.remove(&enrollment.id, !enrollment.is_user_channel())
                        .await?;
                    removed = record;
                }
                let checked_out = self
                    .store
                    .check_out(&enrollment.id, device_id, cert, body)
                    .await;
                if let (Err(_), Some(push), Some(record)) = (&checked_out, &self.push, &removed) {
                    push.restore(record).await;
                }
                checked_out?;
                self.announce(device_id).await;
                tracing::info!(enrollment = %enrollment.id, "CheckOut");
                Vec::new()
            }
            CheckinMessage::UserAuthenticate(_) => {
                // Only a managed device learns that user authentication is declined.
                self.authorize(device_id, cert).await?;
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
            CheckinMessage::DeclarativeManagement(m) => {
                // Only a managed channel is served its declarations or heard about them. The
                // binding is checked in the answer's own statement; only when it does not hold
                // does the full authorization run (a certificate's first use after an import
                // or a renewal binds it; anything else is refused, saying why).
                let channel = Channel {
                    id: &enrollment.id,
                    device_id,
                    cert_sha256: cert,
                };
                if let Some(answer) = self.declarative.answer(&channel, m).await? {
                    return Ok(answer);
                }
                self.authorize(device_id, cert).await?;
                if enrollment.is_user_channel() {
                    self.store.authorize_user_channel(&enrollment.id).await?;
                }
                return self
                    .declarative
                    .answer(&channel, m)
                    .await?
                    .ok_or_else(|| Error::NotManaged(enrollment.id.clone()));
            }
        };
        Ok(Answer {
            body: response,
            content_type: None,
        })
    }
}

/// A TokenUpdate as its event carries it: the UnlockToken (a secret that clears the device's
/// passcode) never leaves sealed storage, so it is taken out of the message. The message was
/// parsed already; if it cannot be re-read, the event carries no message rather than the secret.
fn without_unlock_token(body: &[u8], has_token: bool) -> Vec<u8> {
    if !has_token {
        return body.to_vec();
    }
    let Ok(plist::Value::Dictionary(mut dict)) =
        plist::Value::from_reader(std::io::Cursor::new(body))
    else {
        return Vec::new();
    };
    dict.remove("UnlockToken");
    let mut out = Vec::with_capacity(body.len());
    match plist::Value::Dictionary(dict).to_writer_xml(&mut out) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

impl CheckinService {
    /// Imports a device's Authenticate or TokenUpdate from another server (no certificate: the
    /// device binds its own at its first request). Answers the enrollment ID and message type.
    pub async fn import(&self, body: &[u8], by: &str) -> Result<(String, &'static str), Error> {
        let message = mdm_core::parse_checkin(body)?;
        let enrollment = message.ids().enrollment()?;
        if enrollment.is_user_channel() {
            return Err(Error::InvalidRequest(
                "only device channels are imported: a user channel returns with its TokenUpdate"
                    .into(),
            ));
        }
        let id = enrollment.id.as_str();
        match &message {
            CheckinMessage::Authenticate(m) => {
                let facts = device_facts(m);
                self.store
                    .import_authenticate(id, &m.topic, &facts, body, by)
                    .await?;
                self.announce(id).await;
                tracing::info!(target: "audit", enrollment = %id, by, "enrollment imported (Authenticate)");
            }
            CheckinMessage::TokenUpdate(m) => {
                let without_secret = without_unlock_token(body, m.unlock_token.is_some());
                if let Some(push) = &self.push {
                    push.register(id, id, &m.token, &m.push_magic, &m.topic)
                        .await?;
                }
                // No certificate: the device binds its own at its first request.
                let record = self.token_update_record(&enrollment, m, &[], &without_secret);
                let imported = self.store.import_token_update(&record, by).await;
                if let (Err(_), Some(push)) = (&imported, &self.push) {
                    // Nothing imported to push: take the target back.
                    if let Err(error) = push.remove(id, false).await {
                        tracing::warn!(enrollment = %id, %error, "stale push target left registered");
                    }
                }
                imported?;
                tracing::info!(target: "audit", enrollment = %id, by, "enrollment imported (TokenUpdate)");
            }
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "only Authenticate and TokenUpdate are imported, not {}",
                    message.message_type()
                )))
            }
        }
        Ok((id.to_owned(), message.message_type()))
    }
}

impl CheckinService {
    /// What a TokenUpdate `m` of `enrollment` stores, presented with `cert`: its push details,
    /// the UnlockToken sealed to the device, and `message` (the body without that token).
    fn token_update_record<'a>(
        &self,
        enrollment: &'a mdm_core::ids::EnrollmentRef,
        m: &'a mdm_core::checkin::TokenUpdate,
        cert: &'a [u8],
        message: &'a [u8],
    ) -> TokenUpdateRecord<'a> {
        let device_id = enrollment.device_id.as_str();
        TokenUpdateRecord {
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
            sealed_unlock_token: m
                .unlock_token
                .as_deref()
                .map(|token| self.secrets.seal(token, &unlock_token_context(device_id))),
            awaiting_configuration: m.awaiting_configuration.unwrap_or(false),
            message,
        }
    }
}

/// The facts an Authenticate reports.
fn device_facts(m: &mdm_core::checkin::Authenticate) -> DeviceFacts {
    DeviceFacts {
        serial_number: m.serial_number.clone(),
        product_name: m.product_name.clone(),
        model: m.model.clone(),
        model_name: m.model_name.clone(),
        device_name: m.device_name.clone(),
        os_version: m.os_version.clone(),
        build_version: m.build_version.clone(),
        imei: m.imei.clone(),
        meid: m.meid.clone(),
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
