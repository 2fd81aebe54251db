//! One simulated device on the network: it enrolls (Authenticate, TokenUpdate with its own Token
//! and PushMagic), opens a session when woken (a new TLS connection, like a device after a push),
//! sends Idle, executes every command it is given and answers it, and checks out when told to
//! unenroll. It authenticates with its identity certificate (mTLS) or signs every body
//! (`Mdm-Signature`, for servers behind a TLS-terminating load balancer). A simulated Mac can
//! also run a user channel per logged-in user ([`SimDevice::user_channel`]): the same identity,
//! the same UDID with a `UserID`, and a Token and PushMagic of its own. An InstallProfile of an
//! enrollment profile renews its identity (`renewal`). A session that acknowledged a
//! `DeclarativeManagement` command ends with a declarative sync (`declarative`).

mod declarative;
mod renewal;
mod tls;

use super::ddm::{DdmState, SyncTokens};
use super::responder::{
    execute, report, Answer, DeviceFacts, DeviceState, ReceivedCommand,
    PREISSUED_ENROLLMENT_PROFILE,
};
use super::stats::Stats;
use base64::Engine;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use plist::{Dictionary, Value};
use rand::Rng;
use std::sync::Arc;
use std::time::Instant;

/// How the device proves who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Its identity certificate in the TLS handshake.
    Mtls,
    /// An `Mdm-Signature` header on every request, no client certificate.
    Signature,
}

/// What every simulated device shares.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// `https://host:port` of the device listener.
    pub server: String,
    /// The CheckInURL path.
    pub checkin_path: String,
    /// The ServerURL path.
    pub server_path: String,
    /// PEM of the CA the server's TLS certificate chains to.
    pub server_ca_pem: String,
    /// mTLS or signature.
    pub transport: Transport,
    /// The push topic sent in check-ins.
    pub topic: String,
    /// Share of commands answered NotNow (0..1).
    pub not_now_rate: f64,
    /// Share of commands answered Error (0..1).
    pub error_rate: f64,
}

impl SimConfig {
    /// Devices of a server whose CheckInURL is `/checkin` and ServerURL `/mdm` (the paths of
    /// the development stack and the tests), willing to answer every command.
    pub fn new(server: &str, server_ca_pem: &str, transport: Transport, topic: &str) -> SimConfig {
        SimConfig {
            server: server.to_owned(),
            checkin_path: "/checkin".into(),
            server_path: "/mdm".into(),
            server_ca_pem: server_ca_pem.to_owned(),
            transport,
            topic: topic.to_owned(),
            not_now_rate: 0.0,
            error_rate: 0.0,
        }
    }
}

/// Why a device's exchange with the server failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The request could not be sent or its answer read.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered an unexpected status.
    #[error("{message_type} answered HTTP {status}")]
    Status {
        /// What was sent.
        message_type: &'static str,
        /// The status.
        status: u16,
    },
    /// The server sent something that is not a command.
    #[error("bad command from the server: {0}")]
    BadCommand(String),
    /// The identity could not be loaded.
    #[error("identity: {0}")]
    Identity(String),
    /// Enrollment (OTA or the direct profile) failed.
    #[error("enrollment: {0}")]
    Enrollment(#[from] super::enroll::EnrollmentError),
    /// The server's answer was longer than the device reads.
    #[error("the answer to {message_type} is longer than {limit} bytes")]
    TooLarge {
        /// What was sent.
        message_type: &'static str,
        /// The most the device reads.
        limit: usize,
    },
    /// A `DeclarativeManagement` request was answered with an unexpected status.
    #[error("DeclarativeManagement {endpoint} answered HTTP {status}")]
    DdmStatus {
        /// The `Endpoint` asked for.
        endpoint: String,
        /// The status.
        status: u16,
    },
    /// The answer to a `DeclarativeManagement` request is not what the protocol says.
    #[error("DeclarativeManagement {endpoint}: unusable answer: {reason}")]
    DdmAnswer {
        /// The `Endpoint` asked for.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `declaration-items` manifest lists more declarations than a device takes.
    #[error("declaration-items lists {count} declarations; a device takes at most {limit}")]
    DdmTooManyItems {
        /// How many it lists.
        count: usize,
        /// The most a device takes.
        limit: usize,
    },
}

/// What happened to one command in a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// CommandUUID.
    pub command_uuid: String,
    /// RequestType.
    pub request_type: String,
    /// The status the device answered.
    pub status: &'static str,
}

/// How willing a device is: the share of commands it answers NotNow or Error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behaviour {
    /// Share of commands answered NotNow (0..1).
    pub not_now_rate: f64,
    /// Share of commands answered Error (0..1).
    pub error_rate: f64,
}

/// A macOS user logged in on a simulated Mac.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    /// `UserID`: the user's GUID.
    pub user_id: String,
    /// `UserShortName`.
    pub short_name: String,
    /// `UserLongName`.
    pub long_name: String,
}

impl SimUser {
    /// The `number`th user of a Mac: a fresh GUID and names derived from the number.
    pub fn new(number: usize) -> SimUser {
        SimUser {
            user_id: uuid::Uuid::new_v4().to_string().to_uppercase(),
            short_name: format!("user{number}"),
            long_name: format!("Simulated User {number}"),
        }
    }
}

/// A simulated device, or one user channel of a simulated Mac.
pub struct SimDevice {
    /// Facts it reports.
    pub facts: DeviceFacts,
    /// Its willingness, from the shared configuration at first; tests may change it.
    pub behaviour: Behaviour,
    /// Its state (installed profiles).
    pub state: DeviceState,
    /// APNs token.
    pub token: [u8; 32],
    /// PushMagic.
    pub push_magic: String,
    /// The user, on a user channel; `None` on the device channel.
    pub user: Option<SimUser>,
    config: Arc<SimConfig>,
    tls: Arc<rustls::ClientConfig>,
    signer: Arc<(X509, PKey<Private>)>,
    client: reqwest::Client,
    stats: Option<Stats>,
    renewals: usize,
    /// Its declarations, their states and what it last reported.
    ddm: DdmState,
}

impl SimDevice {
    /// A device with `udid` holding the identity certificate and key in `cert_pem`/`key_pem`.
    pub fn new(
        index: usize,
        udid: &str,
        cert_pem: &str,
        key_pem: &str,
        config: Arc<SimConfig>,
    ) -> Result<SimDevice, SimError> {
        let cert =
            X509::from_pem(cert_pem.as_bytes()).map_err(|e| SimError::Identity(e.to_string()))?;
        let key = PKey::private_key_from_pem(key_pem.as_bytes())
            .map_err(|e| SimError::Identity(e.to_string()))?;
        let tls = tls::client_config(&config, cert_pem, key_pem)?;
        let client = tls::http_client(&tls)?;
        Ok(SimDevice {
            facts: DeviceFacts::iphone(udid, index),
            behaviour: Behaviour {
                not_now_rate: config.not_now_rate,
                error_rate: config.error_rate,
            },
            state: DeviceState::enrolled_by(PREISSUED_ENROLLMENT_PROFILE),
            token: rand::thread_rng().gen(),
            push_magic: uuid::Uuid::new_v4().to_string().to_uppercase(),
            user: None,
            config,
            tls,
            signer: Arc::new((cert, key)),
            client,
            stats: None,
            renewals: 0,
            ddm: DdmState::default(),
        })
    }

    /// The same device, enrolled by the profile `identifier` (its ProfileList shows it, and
    /// removing it unenrolls the device).
    pub fn with_enrollment_profile(mut self, identifier: &str) -> SimDevice {
        self.state = DeviceState::enrolled_by(identifier);
        self
    }

    /// The same device, waiting in Setup Assistant: its TokenUpdate says
    /// `AwaitingConfiguration`, until a DeviceConfigured command releases it.
    pub fn awaiting_configuration(mut self) -> SimDevice {
        self.state.awaiting_configuration = true;
        self
    }

    /// Whether the device still waits in Setup Assistant for DeviceConfigured.
    pub fn is_awaiting_configuration(&self) -> bool {
        self.state.awaiting_configuration
    }

    /// Whether the device left management (its enrollment profile was removed, or it checked
    /// out): it runs no more sessions.
    pub fn is_unenrolled(&self) -> bool {
        self.state.unenrolled
    }

    /// The same device reporting other facts (e.g. [`DeviceFacts::mac`]); the UDID is kept.
    pub fn with_facts(mut self, facts: DeviceFacts) -> SimDevice {
        self.facts = DeviceFacts {
            udid: self.facts.udid.clone(),
            ..facts
        };
        self
    }

    /// The channel of `user` on this device (a Mac): the device's identity and UDID, its own
    /// Token, PushMagic and profiles, and a connection of its own.
    pub fn user_channel(&self, user: SimUser) -> Result<SimDevice, SimError> {
        Ok(SimDevice {
            facts: self.facts.clone(),
            behaviour: self.behaviour,
            state: DeviceState::default(),
            token: rand::thread_rng().gen(),
            push_magic: uuid::Uuid::new_v4().to_string().to_uppercase(),
            user: Some(user),
            config: Arc::clone(&self.config),
            tls: Arc::clone(&self.tls),
            signer: Arc::clone(&self.signer),
            client: tls::http_client(&self.tls)?,
            stats: self.stats.clone(),
            renewals: 0,
            ddm: DdmState::default(),
        })
    }

    /// Records every request's latency in `stats`.
    pub fn with_stats(mut self, stats: Stats) -> SimDevice {
        self.stats = Some(stats);
        self
    }

    /// The UDID.
    pub fn udid(&self) -> &str {
        &self.facts.udid
    }

    /// The ID the server keys this channel on: the UDID, or `<UDID>:<UserID>` on a user
    /// channel (what the admin API takes to queue a command to it).
    pub fn enrollment_id(&self) -> String {
        match &self.user {
            Some(user) => format!("{}:{}", self.facts.udid, user.user_id),
            None => self.facts.udid.clone(),
        }
    }

    /// The identifiers every message of this channel carries.
    fn ids(&self) -> Dictionary {
        let mut ids = Dictionary::new();
        ids.insert("UDID".into(), Value::String(self.facts.udid.clone()));
        if let Some(user) = &self.user {
            ids.insert("UserID".into(), Value::String(user.user_id.clone()));
        }
        ids
    }

    /// The token as the APNs path carries it.
    pub fn token_hex(&self) -> String {
        hex::encode(self.token)
    }

    /// Authenticate, then TokenUpdate; a user channel sends only its TokenUpdate (with the
    /// user's names), as macOS does once the device channel is enrolled.
    pub async fn enroll(&mut self) -> Result<(), SimError> {
        let f = &self.facts;
        if self.user.is_none() {
            let authenticate = checkin(
                self.ids(),
                [
                    ("MessageType", Value::from("Authenticate")),
                    ("Topic", Value::String(self.config.topic.clone())),
                    ("SerialNumber", Value::String(f.serial_number.clone())),
                    ("DeviceName", Value::String(f.device_name.clone())),
                    ("OSVersion", Value::String(f.os_version.clone())),
                    ("BuildVersion", Value::String(f.build_version.clone())),
                    ("ProductName", Value::String(f.product_name.clone())),
                    ("ModelName", Value::String(f.model_name.clone())),
                ],
            );
            self.send_checkin("Authenticate", authenticate).await?;
        }
        let mut entries = vec![
            ("MessageType", Value::from("TokenUpdate")),
            ("Topic", Value::String(self.config.topic.clone())),
            ("Token", Value::Data(self.token.to_vec())),
            ("PushMagic", Value::String(self.push_magic.clone())),
        ];
        match &self.user {
            None => entries.extend([
                (
                    "UnlockToken",
                    Value::Data(b"simulated-unlock-token".to_vec()),
                ),
                (
                    "AwaitingConfiguration",
                    Value::Boolean(self.state.awaiting_configuration),
                ),
            ]),
            Some(user) => entries.extend([
                ("UserShortName", Value::String(user.short_name.clone())),
                ("UserLongName", Value::String(user.long_name.clone())),
            ]),
        }
        let token_update = checkin(self.ids(), entries);
        self.send_checkin("TokenUpdate", token_update).await
    }

    /// CheckOut: the device leaves management.
    pub async fn check_out(&mut self) -> Result<(), SimError> {
        self.state.unenrolled = true;
        let body = checkin(
            self.ids(),
            [
                ("MessageType", Value::from("CheckOut")),
                ("Topic", Value::String(self.config.topic.clone())),
            ],
        );
        self.send_checkin("CheckOut", body).await
    }

    /// Resume TLS sessions from now on: a new connection presents the ticket of the last one,
    /// an abbreviated handshake, where the default is a full handshake every time.
    pub fn resume_tls_sessions(mut self) -> Result<SimDevice, SimError> {
        let mut tls = (*self.tls).clone();
        tls.resumption = rustls::client::Resumption::in_memory_sessions(4);
        self.tls = Arc::new(tls);
        self.client = tls::http_client(&self.tls)?;
        Ok(self)
    }

    /// A new connection for the next session, as after a push wakes the device (a full TLS
    /// handshake unless [`SimDevice::resume_tls_sessions`]). Without it, the next session
    /// reuses the open connection.
    pub fn reconnect(&mut self) -> Result<(), SimError> {
        self.client = tls::http_client(&self.tls)?;
        Ok(())
    }

    /// One session: Idle, then every command until the server has nothing more; then, when it
    /// acknowledged a `DeclarativeManagement` command, a declarative sync
    /// ([`SimDevice::ddm_sync`], from the tokens of the last such command), as a device syncs
    /// once its command queue is drained.
    pub async fn session(&mut self) -> Result<Vec<Handled>, SimError> {
        let mut handled = Vec::new();
        if self.state.unenrolled {
            return Ok(handled);
        }
        // Some(tokens) once a DeclarativeManagement command was acknowledged.
        let mut sync_due: Option<Option<SyncTokens>> = None;
        let ids = self.ids();
        let mut body = report(&ids, "Idle", None, None);
        let mut message_type = "Idle";
        // Bounded: a server that never stops sending commands cannot keep a device forever.
        for _ in 0..1_000 {
            let answer = self
                .send(&self.config.server_path.clone(), message_type, body)
                .await?;
            if self.state.unenrolled {
                // It just acknowledged the removal of its MDM profile: no longer managed, it
                // takes no further command and tells the server it left.
                self.check_out().await?;
                break;
            }
            if answer.is_empty() {
                break;
            }
            let command = ReceivedCommand::parse(&answer).map_err(SimError::BadCommand)?;
            let roll: f64 = rand::thread_rng().gen();
            let (status, result) = if roll < self.behaviour.not_now_rate {
                ("NotNow", None)
            } else if roll < self.behaviour.not_now_rate + self.behaviour.error_rate {
                let error = Answer::Error {
                    code: 12_078,
                    domain: "MCMDMErrorDomain",
                    description: "The device is busy.".into(),
                };
                ("Error", Some(error))
            } else {
                let answer = match self.install_mdm_profile(&command).await {
                    Some(answer) => answer,
                    None => execute(&command, &self.facts, &mut self.state),
                };
                match answer {
                    answer @ Answer::Acknowledged(_) => ("Acknowledged", Some(answer)),
                    answer @ Answer::Error { .. } => ("Error", Some(answer)),
                }
            };
            if status == "Acknowledged" && command.request_type == "DeclarativeManagement" {
                // execute acknowledged it only with readable tokens, or none.
                sync_due = Some(SyncTokens::from_command(&command.command).unwrap_or(None));
            }
            handled.push(Handled {
                command_uuid: command.command_uuid.clone(),
                request_type: command.request_type.clone(),
                status,
            });
            body = report(&ids, status, Some(&command.command_uuid), result.as_ref());
            message_type = status;
        }
        if let (Some(tokens), false) = (sync_due, self.state.unenrolled) {
            self.ddm_sync(tokens).await?;
        }
        Ok(handled)
    }

    async fn send_checkin(
        &self,
        message_type: &'static str,
        body: Vec<u8>,
    ) -> Result<(), SimError> {
        self.send(&self.config.checkin_path.clone(), message_type, body)
            .await
            .map(|_| ())
    }

    async fn send(
        &self,
        path: &str,
        message_type: &'static str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, SimError> {
        self.send_limited(path, message_type, body, usize::MAX)
            .await
    }

    /// [`SimDevice::send`], reading at most `limit` bytes of the answer
    /// ([`SimError::TooLarge`] past it).
    async fn send_limited(
        &self,
        path: &str,
        message_type: &'static str,
        body: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<u8>, SimError> {
        let started = Instant::now();
        let mut request = self
            .client
            .put(format!("{}{path}", self.config.server))
            .header("content-type", "application/x-apple-aspen-mdm");
        if self.config.transport == Transport::Signature {
            request = request.header("Mdm-Signature", self.sign(&body)?);
        }
        let response = request.body(body).send().await;
        let result = match response {
            Ok(response) if response.status().is_success() => {
                read_limited(response, message_type, limit).await
            }
            Ok(response) => Err(SimError::Status {
                message_type,
                status: response.status().as_u16(),
            }),
            Err(e) => Err(SimError::Http(e)),
        };
        if let Some(stats) = &self.stats {
            stats.record(message_type, started.elapsed(), result.is_ok());
        }
        result
    }

    /// `GET url` as the device (its TLS identity, or `Mdm-Signature` of the empty body): how a
    /// device fetches an asset whose `Authentication` is `MDM`. At most `limit` bytes are read.
    pub async fn get_as_device(&self, url: &str, limit: usize) -> Result<Vec<u8>, SimError> {
        let mut request = self.client.get(url);
        if self.config.transport == Transport::Signature {
            request = request.header("Mdm-Signature", self.sign(&[])?);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                read_limited(response, "asset", limit).await
            }
            Ok(response) => Err(SimError::Status {
                message_type: "asset",
                status: response.status().as_u16(),
            }),
            Err(e) => Err(SimError::Http(e)),
        }
    }

    /// A detached CMS signature of `body`, base64, the way iOS sends it (with signed attributes).
    fn sign(&self, body: &[u8]) -> Result<String, SimError> {
        let flags = CMSOptions::DETACHED | CMSOptions::BINARY;
        let cms = CmsContentInfo::sign(
            Some(&self.signer.0),
            Some(&self.signer.1),
            None,
            Some(body),
            flags,
        )
        .and_then(|cms| cms.to_der())
        .map_err(|e| SimError::Identity(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(cms))
    }
}

/// The body of `response`, refused past `limit` bytes without reading further.
async fn read_limited(
    mut response: reqwest::Response,
    message_type: &'static str,
    limit: usize,
) -> Result<Vec<u8>, SimError> {
    let mut body = Vec::new();
    // Each pass reads one chunk and the total is capped: the loop ends.
    while let Some(chunk) = response.chunk().await? {
        if body.len().saturating_add(chunk.len()) > limit {
            return Err(SimError::TooLarge {
                message_type,
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A check-in plist: the channel's identifiers, then `entries`.
fn checkin<'a>(ids: Dictionary, entries: impl IntoIterator<Item = (&'a str, Value)>) -> Vec<u8> {
    let mut dict = ids;
    for (key, value) in entries {
        dict.insert(key.to_owned(), value);
    }
    let mut out = Vec::new();
    let _ = Value::Dictionary(dict).to_writer_xml(&mut out);
    out
}
