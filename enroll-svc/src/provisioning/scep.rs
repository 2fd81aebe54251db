//! The SCEP server (RFC 8894): GetCACaps, GetCACert and PKIOperation with PKCSReq (a one-time
//! challenge bound to a subject) and RenewalReq (signed by a still-valid identity we issued).
//!
//! A request that can be answered is answered with a CertRep, also when it is refused: FAILURE
//! with the failInfo that says why. Only a message without a transaction, nonce or signer is an
//! error (HTTP 400), and only a fault inside (database) is a 5xx.

use super::ca::DeviceCa;
use super::store::{ChallengeCheck, IssuedRecord, PkiStore};
use crate::error::Error;
use mdm_pki::pki;
use mdm_pki::scep::{
    self, parse_pki_message, reply, ContentCipher, Csr, FailInfo, MessageType, PkiRequest,
    ScepError,
};
use openssl::hash::MessageDigest;
use openssl::pkey::Id;
use openssl::x509::X509;
use service_kit::now_ms;
use std::sync::Arc;

/// Smallest RSA key certified.
const MIN_RSA_BITS: u32 = 2048;

/// A SCEP answer: its `Content-Type` and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScepAnswer {
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: Vec<u8>,
}

/// Why a request is answered with a FAILURE.
#[derive(Debug)]
struct Refusal {
    fail_info: FailInfo,
    reason: String,
}

impl Refusal {
    fn bad_request(reason: impl Into<String>) -> Refusal {
        Refusal {
            fail_info: FailInfo::BadRequest,
            reason: reason.into(),
        }
    }
}

impl From<ScepError> for Refusal {
    fn from(error: ScepError) -> Refusal {
        Refusal {
            fail_info: error.fail_info(),
            reason: error.to_string(),
        }
    }
}

/// A decision: the certificate (with the cipher to answer in), a refusal, or a fault.
type Decision = Result<Result<(X509, ContentCipher), Refusal>, Error>;

/// SHA-256 of a challenge or token: what the database stores.
pub fn secret_digest(secret: &str) -> Result<Vec<u8>, Error> {
    Ok(openssl::hash::hash(MessageDigest::sha256(), secret.as_bytes())?.to_vec())
}

/// The SCEP server.
#[derive(Debug, Clone)]
pub struct ScepServer {
    store: PkiStore,
    ca: Arc<DeviceCa>,
}

impl ScepServer {
    /// A server issuing from `ca`.
    pub fn new(store: PkiStore, ca: Arc<DeviceCa>) -> ScepServer {
        ScepServer { store, ca }
    }

    /// Answers one SCEP operation.
    pub async fn handle(&self, operation: &str, message: &[u8]) -> Result<ScepAnswer, Error> {
        // Operation names are case-sensitive in RFC 8894; clients in the field vary.
        match operation.to_ascii_lowercase().as_str() {
            "getcacaps" => Ok(ScepAnswer {
                content_type: scep::CONTENT_TYPE_CAPS,
                body: scep::CA_CAPS.as_bytes().to_vec(),
            }),
            "getcacert" => Ok(ScepAnswer {
                content_type: scep::CONTENT_TYPE_CA_CERT,
                body: self.ca.cert().to_der()?,
            }),
            "pkioperation" => self.pki_operation(message).await,
            _ => Err(Error::InvalidRequest(format!(
                "unknown SCEP operation {operation:?}"
            ))),
        }
    }

    async fn pki_operation(&self, message: &[u8]) -> Result<ScepAnswer, Error> {
        let request = parse_pki_message(message)?;
        let reply_to = request.reply_to();
        let body = match self.decide(&request).await? {
            Ok((issued, cipher)) => {
                tracing::info!(
                    transaction = %request.transaction_id,
                    serial = %pki::serial_hex(&issued)?,
                    subject = %pki::common_name(issued.subject_name()).unwrap_or_default(),
                    cipher = cipher.name(),
                    "SCEP certificate issued"
                );
                reply::success(
                    &reply_to,
                    self.ca.signer(),
                    &issued,
                    &[],
                    &request.signer,
                    cipher,
                )?
            }
            Err(refusal) => {
                tracing::warn!(
                    transaction = %request.transaction_id,
                    fail_info = ?refusal.fail_info,
                    reason = %refusal.reason,
                    "SCEP request refused"
                );
                // The client learns the failInfo; the reason stays in the log.
                reply::failure(&reply_to, self.ca.signer(), refusal.fail_info, "")?
            }
        };
        Ok(ScepAnswer {
            content_type: scep::CONTENT_TYPE_PKI_MESSAGE,
            body,
        })
    }

    async fn decide(&self, request: &PkiRequest) -> Decision {
        if let Err(e) = request.verify_signature() {
            return Ok(Err(e.into()));
        }
        let (content, cipher) = match request.decrypt(self.ca.cert(), self.ca.key()) {
            Ok(done) => done,
            Err(e) => return Ok(Err(e.into())),
        };
        let csr = match Csr::parse(&content).and_then(|csr| csr.verify_signature().map(|_| csr)) {
            Ok(csr) => csr,
            Err(e) => return Ok(Err(e.into())),
        };
        if let Err(why) = acceptable_key(&csr) {
            return Ok(Err(why));
        }
        let issued = match request.message_type {
            MessageType::PkcsReq => self.enroll(request, &csr).await?,
            MessageType::RenewalReq => self.renew(request, &csr).await?,
            other => Err(Refusal::bad_request(format!("{other:?} is not supported"))),
        };
        Ok(issued.map(|cert| (cert, cipher)))
    }

    /// PKCSReq: the challenge decides the subject's CN and the flow.
    async fn enroll(
        &self,
        request: &PkiRequest,
        csr: &Csr,
    ) -> Result<Result<X509, Refusal>, Error> {
        // Apple's mdmclient may send the challenge among the signed attributes only.
        let Some(challenge) = csr
            .challenge
            .clone()
            .or_else(|| request.signed_challenge.clone())
        else {
            return Ok(Err(Refusal::bad_request("no challengePassword")));
        };
        let digest = secret_digest(&challenge)?;
        let now = now_ms();
        let bound = match self.store.check_challenge(&digest, now).await? {
            ChallengeCheck::Valid(bound) => bound,
            ChallengeCheck::Used => return Ok(Err(Refusal::bad_request("challenge already used"))),
            ChallengeCheck::Expired => return Ok(Err(Refusal::bad_request("challenge expired"))),
            ChallengeCheck::Unknown => return Ok(Err(Refusal::bad_request("unknown challenge"))),
        };
        let subject = pki::with_common_name(csr.subject(), &bound.common_name)?;
        let key = csr.public_key()?;
        let cert = self.ca.issue(&key, &subject)?;
        let record = IssuedRecord {
            serial: pki::serial_hex(&cert)?,
            sha256: pki::sha256(&cert)?.to_vec(),
            common_name: bound.common_name.clone(),
            flow: bound.flow,
            ota_session_id: bound.ota_session_id.clone(),
            enrollment_token_id: bound.enrollment_token_id.clone(),
            renewed_from: bound.renews_serial.clone(),
            renewal_for: bound.renewal_for.clone(),
            renews_sha256: bound.renews_sha256.clone(),
            issued_at: now,
            not_after: pki::not_after_ms(&cert),
            der: cert.to_der()?,
        };
        if !self
            .store
            .record_with_challenge(&digest, &record, now)
            .await?
        {
            // Another request used it between the check and here.
            return Ok(Err(Refusal::bad_request("challenge already used")));
        }
        Ok(Ok(cert))
    }

    /// RenewalReq: signed by an identity this CA issued, still valid and not revoked; the new
    /// certificate keeps its CN and flow, and replaces the old one's binding at its first use.
    async fn renew(&self, request: &PkiRequest, csr: &Csr) -> Result<Result<X509, Refusal>, Error> {
        let old = &request.signer;
        if !self.ca.issued(old) {
            return Ok(Err(Refusal::bad_request(
                "RenewalReq not signed by an identity we issued",
            )));
        }
        let now_asn1 = openssl::asn1::Asn1Time::days_from_now(0)?;
        if old.not_after() < now_asn1 {
            return Ok(Err(Refusal::bad_request(
                "the identity to renew has expired",
            )));
        }
        let old_sha256 = pki::sha256(old)?;
        let Some(previous) = self.store.certificate_by_sha256(&old_sha256).await? else {
            return Ok(Err(Refusal::bad_request(
                "the identity to renew is not in the registry",
            )));
        };
        if previous.revoked_at.is_some() {
            return Ok(Err(Refusal::bad_request(
                "the identity to renew is revoked",
            )));
        }
        let subject = pki::with_common_name(csr.subject(), &previous.common_name)?;
        let key = csr.public_key()?;
        let cert = self.ca.issue(&key, &subject)?;
        let record = IssuedRecord {
            serial: pki::serial_hex(&cert)?,
            sha256: pki::sha256(&cert)?.to_vec(),
            common_name: previous.common_name.clone(),
            flow: previous.flow,
            ota_session_id: previous.ota_session_id.clone(),
            enrollment_token_id: previous.enrollment_token_id.clone(),
            renewed_from: Some(previous.serial.clone()),
            renewal_for: previous.enrollment_id.clone(),
            renews_sha256: Some(old_sha256.to_vec()),
            issued_at: now_ms(),
            not_after: pki::not_after_ms(&cert),
            der: cert.to_der()?,
        };
        self.store.record_renewal(&record).await?;
        Ok(Ok(cert))
    }
}

/// RSA of at least 2048 bits, or EC: what the identity may be.
fn acceptable_key(csr: &Csr) -> Result<(), Refusal> {
    let key = csr.public_key().map_err(Refusal::from)?;
    match key.id() {
        Id::RSA if key.bits() >= MIN_RSA_BITS => Ok(()),
        Id::EC => Ok(()),
        _ => Err(Refusal {
            fail_info: FailInfo::BadAlg,
            reason: format!(
                "key type {:?} of {} bits is not accepted",
                key.id(),
                key.bits()
            ),
        }),
    }
}
