//! What the enrollment store's suites share: a store on a fresh SQLite or PostgreSQL database,
//! and the messages they send it.

#![allow(dead_code)] // Each test binary uses a part.

use enroll_svc::store::{
    AuthenticateOutcome, Authenticated, Authentication, ChannelKind, DeviceFacts, EnrollmentStore,
    TokenUpdateRecord,
};
use enroll_svc::Error;
use service_kit::db::{DatabaseConfig, Db};

/// A store on a fresh database, with what keeps the database alive.
pub struct Fixture {
    pub store: EnrollmentStore,
    _keep: Box<dyn std::any::Any>,
}

pub async fn sqlite() -> Option<Fixture> {
    fixture(testkit::Engine::Sqlite).await
}

pub async fn postgres() -> Option<Fixture> {
    fixture(testkit::Engine::Postgres).await
}

async fn fixture(engine: testkit::Engine) -> Option<Fixture> {
    let database = testkit::fresh_database(engine).await?;
    let db = Db::connect(&DatabaseConfig::default(), &database.url)
        .await
        .expect("database");
    let store = EnrollmentStore::open(db).await.expect("migrations");
    Some(Fixture {
        store,
        _keep: database.keep,
    })
}

pub const CERT_A: [u8; 32] = [0xA; 32];
pub const CERT_B: [u8; 32] = [0xB; 32];

pub fn facts() -> DeviceFacts {
    DeviceFacts {
        serial_number: Some("SERIAL".into()),
        os_version: Some("17.1".into()),
        ..Default::default()
    }
}

/// An Authenticate with a certificate from an operator's CA whose CN is the UDID.
pub async fn authenticate(
    store: &EnrollmentStore,
    id: &str,
    cert: &[u8],
) -> Result<AuthenticateOutcome, Error> {
    authenticate_as(store, id, cert, id)
        .await
        .map(|done| done.outcome)
}

/// An Authenticate with a certificate whose CN is `cn`.
pub async fn authenticate_as(
    store: &EnrollmentStore,
    id: &str,
    cert: &[u8],
    cn: &str,
) -> Result<Authenticated, Error> {
    store
        .authenticate(&Authentication {
            id,
            channel: ChannelKind::Device,
            cert_sha256: cert,
            cert_common_name: cn,
            topic: Some("com.apple.mgmt.test"),
            facts: &facts(),
            message: b"",
        })
        .await
}

pub async fn generation(store: &EnrollmentStore, id: &str) -> i64 {
    store
        .get(id)
        .await
        .expect("get")
        .expect("exists")
        .generation
}

pub fn token_update<'a>(
    id: &'a str,
    device_id: &'a str,
    channel: ChannelKind,
    cert: &'a [u8],
) -> TokenUpdateRecord<'a> {
    TokenUpdateRecord {
        id,
        device_id,
        channel,
        user_id: channel.is_user().then_some("USER"),
        user_short_name: None,
        user_long_name: None,
        cert_sha256: cert,
        push_token: &[1, 2, 3],
        push_magic: "magic",
        topic: None,
        sealed_unlock_token: Some(vec![9, 9]),
        awaiting_configuration: true,
        message: b"",
    }
}
