//! One simulated device on the network: it enrolls (Authenticate, TokenUpdate with its own Token
//! and PushMagic), opens a session when woken (a new TLS connection, like a device after a push),
//! sends Idle, executes every command it is given and answers it, and checks out when told to
//! unenroll. It authenticates with its identity certificate (mTLS) or signs every body
//! (`Mdm-Signature`, for servers behind a TLS-terminating load balancer).

use super::responder::{execute, report, Answer, DeviceFacts, DeviceState, ReceivedCommand};
use super::stats::Stats;
use base64::Engine;
use openssl::cms::{CMSOptions, CmsContentInfo};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use plist::{Dictionary, Value};
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// A simulated device.
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
    config: Arc<SimConfig>,
    identity_pem: String,
    signer: (X509, PKey<Private>),
    client: reqwest::Client,
    stats: Option<Stats>,
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
        let mut token = [0u8; 32];
        rand::thread_rng().fill(&mut token);
        let identity_pem = format!("{cert_pem}\n{key_pem}");
        let client = build_client(&config, &identity_pem)?;
        Ok(SimDevice {
            facts: DeviceFacts::iphone(udid, index),
            behaviour: Behaviour {
                not_now_rate: config.not_now_rate,
                error_rate: config.error_rate,
            },
            state: DeviceState::default(),
            token,
            push_magic: uuid::Uuid::new_v4().to_string().to_uppercase(),
            config,
            identity_pem,
            signer: (cert, key),
            client,
            stats: None,
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

    /// The token as the APNs path carries it.
    pub fn token_hex(&self) -> String {
        hex::encode(self.token)
    }

    /// Authenticate, then TokenUpdate.
    pub async fn enroll(&mut self) -> Result<(), SimError> {
        let f = &self.facts;
        let authenticate = checkin(&[
            ("MessageType", Value::String("Authenticate".into())),
            ("UDID", Value::String(f.udid.clone())),
            ("Topic", Value::String(self.config.topic.clone())),
            ("SerialNumber", Value::String(f.serial_number.clone())),
            ("DeviceName", Value::String(f.device_name.clone())),
            ("OSVersion", Value::String(f.os_version.clone())),
            ("BuildVersion", Value::String(f.build_version.clone())),
            ("ProductName", Value::String(f.product_name.clone())),
            ("ModelName", Value::String(f.model_name.clone())),
        ]);
        self.send_checkin("Authenticate", authenticate).await?;
        let token_update = checkin(&[
            ("MessageType", Value::String("TokenUpdate".into())),
            ("UDID", Value::String(self.facts.udid.clone())),
            ("Topic", Value::String(self.config.topic.clone())),
            ("Token", Value::Data(self.token.to_vec())),
            ("PushMagic", Value::String(self.push_magic.clone())),
            (
                "UnlockToken",
                Value::Data(b"simulated-unlock-token".to_vec()),
            ),
            ("AwaitingConfiguration", Value::Boolean(false)),
        ]);
        self.send_checkin("TokenUpdate", token_update).await
    }

    /// CheckOut: the device leaves management.
    pub async fn check_out(&mut self) -> Result<(), SimError> {
        let body = checkin(&[
            ("MessageType", Value::String("CheckOut".into())),
            ("UDID", Value::String(self.facts.udid.clone())),
            ("Topic", Value::String(self.config.topic.clone())),
        ]);
        self.send_checkin("CheckOut", body).await
    }

    /// A new connection for the next session, as after a push wakes the device.
    pub fn reconnect(&mut self) -> Result<(), SimError> {
        self.client = build_client(&self.config, &self.identity_pem)?;
        Ok(())
    }

    /// One session: Idle, then every command until the server has nothing more.
    pub async fn session(&mut self) -> Result<Vec<Handled>, SimError> {
        let mut handled = Vec::new();
        let mut body = report(&self.facts.udid, "Idle", None, None);
        let mut message_type = "Idle";
        // Bounded: a server that never stops sending commands cannot keep a device forever.
        for _ in 0..1_000 {
            let answer = self
                .send(&self.config.server_path.clone(), message_type, body)
                .await?;
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
                match execute(&command, &self.facts, &mut self.state) {
                    answer @ Answer::Acknowledged(_) => ("Acknowledged", Some(answer)),
                    answer @ Answer::Error { .. } => ("Error", Some(answer)),
                }
            };
            handled.push(Handled {
                command_uuid: command.command_uuid.clone(),
                request_type: command.request_type.clone(),
                status,
            });
            body = report(
                &self.facts.udid,
                status,
                Some(&command.command_uuid),
                result.as_ref(),
            );
            message_type = status;
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
            Ok(response) if response.status().is_success() => Ok(response.bytes().await?.to_vec()),
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

fn build_client(config: &SimConfig, identity_pem: &str) -> Result<reqwest::Client, SimError> {
    let ca = reqwest::Certificate::from_pem(config.server_ca_pem.as_bytes())?;
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .http1_only()
        .timeout(Duration::from_secs(30));
    if config.transport == Transport::Mtls {
        builder = builder.identity(reqwest::Identity::from_pem(identity_pem.as_bytes())?);
    }
    Ok(builder.build()?)
}

fn checkin(entries: &[(&str, Value)]) -> Vec<u8> {
    let dict: Dictionary = entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut out = Vec::new();
    let _ = Value::Dictionary(dict).to_writer_xml(&mut out);
    out
}
