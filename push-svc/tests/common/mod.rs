//! push-svc started in-process for a test, against the mock APNs over real TLS, on a SQLite file
//! or a fresh PostgreSQL database.

#![allow(dead_code)]

use mdm_proto::v1::push_client::PushClient;
use mdm_proto::v1::{
    PushOutcome, PushRequest, PushResult, RegisterTargetRequest, UploadCertificateRequest,
};
use std::collections::HashMap;
use std::net::SocketAddr;
use testkit::pki::PUSH_TOPIC;
use testkit::{ApnsFixture, TempDatabase};
use tonic::transport::Channel;

pub const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Which database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The database a service (or two replicas) use.
pub struct Database {
    pub url: String,
    _keep: Box<dyn std::any::Any + Send>,
}

impl Database {
    pub async fn create(engine: Engine) -> Option<Database> {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite://{}", dir.path().join("push.db").display());
                Some(Database {
                    url,
                    _keep: Box::new(dir),
                })
            }
            Engine::Postgres => {
                let Some(db) = TempDatabase::create().await.expect("PostgreSQL reachable") else {
                    eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
                    return None;
                };
                Some(Database {
                    url: db.url.clone(),
                    _keep: Box::new(db),
                })
            }
        }
    }
}

/// A running push-svc.
pub struct PushService {
    pub client: PushClient<Channel>,
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), push_svc::Error>>>,
}

impl PushService {
    /// Starts push-svc on `db`, pointed at `apns`, with extra `MDM_PUSH_*` settings.
    pub async fn start(db: &Database, apns: &ApnsFixture, extra: &[(&str, &str)]) -> PushService {
        let mut env: HashMap<String, String> = [
            ("MDM_PUSH_SECRET_KEY", format!("\"{SECRET_KEY}\"")),
            ("MDM_PUSH_DATABASE__URL", db.url.clone()),
            ("MDM_PUSH_METRICS_LISTEN", "127.0.0.1:0".into()),
            ("MDM_PUSH_APNS__PRODUCTION_URL", apns.mock().url()),
            ("MDM_PUSH_APNS__SANDBOX_URL", apns.mock().url()),
            (
                "MDM_PUSH_APNS__CA_FILES",
                format!("[{:?}]", apns.ca_file.display().to_string()),
            ),
            ("MDM_PUSH_APNS__RETRY_BACKOFF_MS", "5".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        let config: push_svc::Config =
            service_kit::config::load_from(None, &env).expect("valid configuration");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(push_svc::run(listener, config, async {
            let _ = stopped.await;
        }));
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("url")
            .connect_lazy();
        let client = PushClient::new(channel)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        let service = PushService {
            client,
            addr,
            stop: Some(stop),
            task: Some(task),
        };
        testkit::eventually(
            std::time::Duration::from_secs(20),
            "push-svc answers",
            || {
                let mut client = service.client.clone();
                async move {
                    client
                        .get_target(mdm_proto::v1::GetTargetRequest {
                            enrollment_id: "x".into(),
                        })
                        .await
                        .err()
                        .filter(|s| s.code() == tonic::Code::NotFound)
                        .map(|_| ())
                }
            },
        )
        .await
        .expect("push-svc starts");
        service
    }

    pub fn client(&self) -> PushClient<Channel> {
        self.client.clone()
    }

    /// Uploads `pem` (certificate and key).
    pub async fn upload_pem(
        &self,
        pem: &str,
    ) -> Result<mdm_proto::v1::CertificateInfo, tonic::Status> {
        self.client()
            .upload_certificate(UploadCertificateRequest {
                pem: pem.as_bytes().to_vec(),
                uploaded_by: "test".into(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner())
    }

    /// Registers `id` with a token derived from `n` and PushMagic `magic-<id>`; returns the hex token.
    pub async fn register(&self, id: &str, n: u32) -> String {
        let token = token(n);
        self.client()
            .register_target(RegisterTargetRequest {
                enrollment_id: id.into(),
                device_id: id.into(),
                token: token.clone(),
                push_magic: format!("magic-{id}"),
                topic: PUSH_TOPIC.into(),
            })
            .await
            .expect("register");
        hex::encode(token)
    }

    pub async fn push(&self, ids: &[&str]) -> Vec<PushResult> {
        self.client()
            .push(PushRequest {
                enrollment_ids: ids.iter().map(|s| s.to_string()).collect(),
                reason: "test".into(),
            })
            .await
            .expect("push")
            .into_inner()
            .results
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A 32-byte token unique to `n`.
pub fn token(n: u32) -> Vec<u8> {
    let mut token = vec![0xA5; 32];
    token[..4].copy_from_slice(&n.to_be_bytes());
    token
}

pub fn outcome(result: &PushResult) -> PushOutcome {
    PushOutcome::try_from(result.outcome).unwrap_or(PushOutcome::Unspecified)
}
