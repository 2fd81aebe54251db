//! Storage of the provisioning side, on the enrollment database (SQLite or PostgreSQL, one query
//! text for both through `service_kit::with_db!`; the tables come from migration 0002).
//!
//! Every "use once" rule (a SCEP challenge, a single-use token, an OTA session's phase 2) is one
//! conditional `UPDATE … RETURNING`, so two concurrent requests cannot both win, on any number of
//! replicas.
//!
//! # Layout
//! - [`certificates`]: the CA row, issued certificates, revocation, renewal.
//! - [`challenges`]: one-time SCEP challenges.
//! - [`foreign`]: certificates from other CAs that devices present.
//! - [`tokens`]: enrollment tokens.
//! - [`sessions`]: OTA enrollments in progress.

pub mod certificates;
pub mod challenges;
pub mod foreign;
pub mod sessions;
pub mod tokens;

pub use certificates::{Admission, BoundCertificate, IssuedCertificate, IssuedFacts, IssuedRecord};
pub use challenges::{Challenge, ChallengeCheck, NewChallenge};
pub use foreign::ForeignCertificate;
pub use sessions::{NewSession, Session};
pub use tokens::{NewToken, TokenRecord, TokenUse};

use service_kit::db::Db;

/// How a certificate came to be issued (stored as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// OTA phase 2: the identity that signs phase 3.
    Ota,
    /// OTA phase 3's enrollment profile: the MDM identity, CN = UDID.
    Enrollment,
    /// The direct profile: CN is a random identifier (bound-certificate policy).
    Direct,
}

impl Flow {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Ota => "ota",
            Flow::Enrollment => "enrollment",
            Flow::Direct => "direct",
        }
    }
}

impl TryFrom<String> for Flow {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        [Flow::Ota, Flow::Enrollment, Flow::Direct]
            .into_iter()
            .find(|flow| flow.as_str() == value)
            .ok_or_else(|| format!("unknown certificate flow {value:?}"))
    }
}

/// The provisioning tables of enroll-svc.
#[derive(Debug, Clone)]
pub struct PkiStore {
    db: Db,
}

impl PkiStore {
    /// A store on a pool whose migrations have run (see `EnrollmentStore::open`).
    pub fn new(db: Db) -> PkiStore {
        PkiStore { db }
    }

    /// The pool.
    pub fn db(&self) -> &Db {
        &self.db
    }
}
