//! What the enrollment tests share: a stack, the admin calls, and a SCEP client built on
//! mdm-core's client-side codec.

use base64::Engine;
use mdm_pki::pki;
use mdm_pki::profile::{read_dictionary, signing};
use mdm_pki::scep::client::{self, CertRep, RequestOptions};
use mdm_pki::scep::{csr, ContentCipher, Digest, Signer};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use plist::{Dictionary, Value};
use reqwest::StatusCode;
use serde_json::{json, Value as Json};
use testkit::stack::ADMIN_TOKEN;
use testkit::{Engine as DbEngine, Stack, StackOptions};

/// A stack on `engine`; `None` when the PostgreSQL run is switched off.
pub async fn stack(engine: DbEngine) -> Option<Stack> {
    let stack = Stack::start(StackOptions::new(engine))
        .await
        .expect("stack starts");
    if stack.is_none() {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
    }
    stack
}

/// A client of the enrollment listener: server TLS only, like a device with no identity yet.
pub fn client(stack: &Stack) -> reqwest::Client {
    testkit::https_client(&stack.device_ca.cert_pem(), None)
}

/// Creates an enrollment token through the admin API; answers the JSON: `token` (the record),
/// `secret`, `enrollment_url` and `profile_url`.
pub async fn create_token(stack: &Stack, body: Json) -> Json {
    let response = stack
        .admin_client()
        .post(format!("{}/v1/enrollment-tokens", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("admin API");
    assert_eq!(response.status(), StatusCode::CREATED, "{}", stack.logs());
    let location = response.headers()["location"]
        .to_str()
        .expect("Location")
        .to_owned();
    let created = json_of(response).await;
    // The Location names the token: reading it answers the record just made.
    let read = stack
        .admin_client()
        .get(format!("{}{location}", stack.admin_url))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("admin API");
    assert_eq!(read.status(), StatusCode::OK, "{location}");
    assert_eq!(json_of(read).await, created["token"], "{location}");
    created
}

/// A response's JSON body.
pub async fn json_of(response: reqwest::Response) -> Json {
    let bytes = response.bytes().await.expect("body");
    serde_json::from_slice(&bytes).expect("JSON")
}

/// A multi-use token's secret.
pub async fn multi_use_token(stack: &Stack) -> String {
    let token = create_token(stack, json!({"description": "tests", "unlimited": true})).await;
    token["secret"].as_str().expect("secret").to_owned()
}

/// GETs `path` on the enrollment listener.
pub async fn get(stack: &Stack, path: &str) -> reqwest::Response {
    client(stack)
        .get(format!("{}{path}", stack.enrollment_url))
        .send()
        .await
        .expect("enrollment listener answers")
}

/// A signed profile: checks the signature, answers the plist and the signer.
pub fn open_profile(der: &[u8]) -> (Dictionary, X509) {
    let opened = signing::open(der).expect("a valid signature");
    (
        read_dictionary(&opened.content).expect("a plist"),
        opened.signer,
    )
}

/// The payloads of a profile.
pub fn payloads(profile: &Dictionary) -> Vec<Dictionary> {
    profile["PayloadContent"]
        .as_array()
        .expect("PayloadContent")
        .iter()
        .map(|p| p.as_dictionary().expect("payload").clone())
        .collect()
}

/// The payload of `kind` in `payloads`.
pub fn payload<'a>(payloads: &'a [Dictionary], kind: &str) -> &'a Dictionary {
    payloads
        .iter()
        .find(|p| p["PayloadType"].as_string() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} payload"))
}

/// The SCEP challenge of a profile's SCEP payload.
pub fn scep_challenge(payloads: &[Dictionary]) -> String {
    let scep = payload(payloads, "com.apple.security.scep");
    let content = scep["PayloadContent"].as_dictionary().expect("content");
    content["Challenge"]
        .as_string()
        .expect("challenge")
        .to_owned()
}

/// The direct profile's SCEP challenge, from a fresh direct profile.
pub async fn direct_challenge(stack: &Stack, token: &str) -> String {
    let response = get(stack, &format!("/enroll/profile?token={token}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", stack.logs());
    let (profile, _) = open_profile(&response.bytes().await.expect("body"));
    scep_challenge(&payloads(&profile))
}

/// The CA certificate from GetCACert.
pub async fn ca_cert(stack: &Stack) -> X509 {
    let response = get(stack, "/scep?operation=GetCACert").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-x509-ca-cert"
    );
    X509::from_der(&response.bytes().await.expect("body")).expect("DER certificate")
}

/// How a SCEP request travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// PKIOperation by POST.
    Post,
    /// PKIOperation by GET with the message base64 in the query.
    Get,
}

/// A device's key and the self-signed certificate it signs its first request with.
pub struct Requester {
    /// Key.
    pub key: PKey<Private>,
    /// Self-signed signer.
    pub signer: X509,
}

impl Requester {
    /// A fresh RSA 2048 key.
    pub fn new() -> Requester {
        let key = pki::rsa_key(2048).expect("key");
        let signer =
            pki::self_signed_signer(&key, &pki::name("scep-test", None).expect("n")).expect("c");
        Requester { key, signer }
    }
}

/// Sends raw `message` as a PKIOperation; answers the HTTP response.
pub async fn pki_operation(
    stack: &Stack,
    message: &[u8],
    transport: Transport,
) -> reqwest::Response {
    let url = format!("{}/scep?operation=PKIOperation", stack.enrollment_url);
    let request = match transport {
        Transport::Post => client(stack).post(url).body(message.to_vec()),
        Transport::Get => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(message);
            let encoded: String =
                percent_encoding::utf8_percent_encode(&b64, percent_encoding::NON_ALPHANUMERIC)
                    .to_string();
            client(stack).get(format!("{url}&message={encoded}"))
        }
    };
    request.send().await.expect("SCEP answers")
}

/// Requests a certificate with `challenge`; answers the CertRep as the client reads it.
pub async fn enroll(
    stack: &Stack,
    ca: &X509,
    requester: &Requester,
    challenge: &str,
    cipher: ContentCipher,
    transport: Transport,
) -> CertRep {
    let subject = pki::name("asked-for", None).expect("n");
    let csr =
        csr::build(&requester.key, &subject, Some(challenge), 0, Digest::Sha256).expect("csr");
    let signer = Signer {
        cert: &requester.signer,
        key: &requester.key,
    };
    let options = RequestOptions {
        cipher,
        ..RequestOptions::default()
    };
    let request = client::build_request(&csr, signer, ca, &options).expect("request");
    let response = pki_operation(stack, &request.message, transport).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", stack.logs());
    assert_eq!(
        response.headers()["content-type"],
        "application/x-pki-message"
    );
    let body = response.bytes().await.expect("body");
    client::read_cert_rep(&body, ca, signer, &request).expect("a CertRep from the CA")
}

/// The value of a plist string key.
pub fn string<'a>(dict: &'a Dictionary, key: &str) -> &'a str {
    dict.get(key).and_then(Value::as_string).unwrap_or_default()
}

/// What the edge's admission (`proxy::admission`) answers for a check-in from `cert` naming
/// device `udid`, asking this stack's enroll-svc with no cache, under a cn-equals-udid policy.
pub async fn admit(
    stack: &Stack,
    cert: &proxy::tls::ClientCertificate,
    udid: &str,
) -> Result<mdm_proto::v1::DeviceIdentity, proxy::error::ProxyError> {
    let services = proxy::config::Services {
        enroll_url: format!("http://{}", stack.enroll_addr),
        admission_cache_ms: 0,
        ..proxy::config::Services::default()
    };
    let backends = proxy::backends::Backends::new(&services).expect("endpoints");
    let enrollment = mdm_core::ChannelIds {
        udid: Some(udid.into()),
        ..Default::default()
    }
    .enrollment()
    .expect("a UDID");
    proxy::admission::Admissions::new(&services)
        .admit(
            &backends,
            mdm_proto::v1::AuthMethod::Mtls,
            cert,
            &enrollment,
            proxy::config::IdentityPolicy::CnEqualsUdid,
            false,
        )
        .await
}

/// The facts the edge keeps about a client certificate.
pub fn client_certificate(cert: &X509) -> proxy::tls::ClientCertificate {
    proxy::tls::ClientCertificate::from_x509(cert).expect("the certificate's facts")
}

/// PUTs a check-in as the device holding `identity` (certificate + key).
pub async fn checkin(stack: &Stack, identity: &(X509, PKey<Private>), body: Vec<u8>) -> StatusCode {
    let mut pem = String::from_utf8(identity.0.to_pem().expect("pem")).expect("utf-8");
    pem.push_str(
        &String::from_utf8(identity.1.private_key_to_pem_pkcs8().expect("pem")).expect("utf-8"),
    );
    let client = testkit::https_client(&stack.device_ca.cert_pem(), Some(&pem));
    match client
        .put(format!("{}/checkin", stack.device_url))
        .body(body)
        .send()
        .await
    {
        Ok(response) => response.status(),
        Err(e) => panic!("check-in failed: {e}\n{}", stack.logs()),
    }
}
