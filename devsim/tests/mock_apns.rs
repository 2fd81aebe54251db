//! The mock APNs as a client sees it, over real TLS and HTTP/2: a client certificate from the
//! configured CA is required, the push is checked against the certificate's UID, accepted
//! pushes are recorded and wake a waiting subscriber, faults are injected on request.
//!
//! Run: `cargo nextest run -p devsim`.

use mock_apns::{Fault, MockApns, MockApnsConfig, PushFeed};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
use std::time::Duration;

const TOPIC: &str = "com.apple.mgmt.External.test-topic";
const TOKEN: &str = "0a0b0c0d0a0b0c0d0a0b0c0d0a0b0c0d0a0b0c0d0a0b0c0d0a0b0c0d0a0b0c0d";

struct Pki {
    ca_pem: String,
    server: (String, String),
    push: String,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, "Mock CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).expect("ca");
    let issue = |params: CertificateParams| {
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &ca_cert, &ca_key).expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    let mut server = CertificateParams::default();
    server.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
    let mut push = CertificateParams::default();
    push.distinguished_name.push(
        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        TOPIC,
    );
    let (cert, key) = issue(push);
    Pki {
        ca_pem: ca_cert.pem(),
        server: issue(server),
        push: format!("{cert}{key}"),
    }
}

fn client(pki: &Pki, identity: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).expect("ca"))
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10));
    if identity {
        builder =
            builder.identity(reqwest::Identity::from_pem(pki.push.as_bytes()).expect("identity"));
    }
    builder.build().expect("client")
}

async fn post(
    client: &reqwest::Client,
    mock: &MockApns,
    topic: &str,
    body: &str,
) -> Result<(u16, String), reqwest::Error> {
    let response = client
        .post(format!("{}/3/device/{TOKEN}", mock.url()))
        .header("apns-topic", topic)
        .header("apns-push-type", "mdm")
        .header("apns-expiration", "0")
        .body(body.to_owned())
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

#[tokio::test]
async fn the_mock_checks_pushes_records_them_and_injects_faults() {
    let pki = pki();
    let mock = MockApns::start(MockApnsConfig::new(
        &pki.server.0,
        &pki.server.1,
        &pki.ca_pem,
    ))
    .expect("start");
    // Without the push certificate the handshake is refused, as at Apple.
    assert!(post(&client(&pki, false), &mock, TOPIC, "{\"mdm\":\"M\"}")
        .await
        .is_err());

    let client = client(&pki, true);
    let waiting = {
        let mock = &mock;
        async move { mock.wait_for_push(TOKEN, Duration::from_secs(10)).await }
    };
    let (delivery, answer) =
        tokio::join!(waiting, post(&client, &mock, TOPIC, "{\"mdm\":\"MAGIC\"}"));
    assert_eq!(answer.expect("answer").0, 200);
    let delivery = delivery.expect("the subscriber was woken");
    assert_eq!(
        (delivery.topic.as_str(), delivery.push_magic.as_str()),
        (TOPIC, "MAGIC")
    );

    let (status, body) = post(&client, &mock, "com.apple.mgmt.other", "{\"mdm\":\"M\"}")
        .await
        .expect("answer");
    assert_eq!((status, body.as_str()), (400, "{\"reason\":\"BadTopic\"}"));
    let (status, body) = post(&client, &mock, TOPIC, "{\"aps\":{}}")
        .await
        .expect("answer");
    assert_eq!(
        (status, body.as_str()),
        (400, "{\"reason\":\"BadMdmPayload\"}")
    );

    mock.inject(TOKEN, Fault::new(410, "Unregistered"));
    let (status, body) = post(&client, &mock, TOPIC, "{\"mdm\":\"M\"}")
        .await
        .expect("answer");
    assert_eq!(
        (status, body.as_str()),
        (410, "{\"reason\":\"Unregistered\"}")
    );
    assert_eq!(mock.delivered_count(), 1);
    assert_eq!(mock.refusals().len(), 3);
}

#[tokio::test]
async fn the_push_feed_reports_every_push_once_to_a_follower_in_order() {
    let pki = pki();
    let mut config = MockApnsConfig::new(&pki.server.0, &pki.server.1, &pki.ca_pem);
    config.feed_listen = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let mock = MockApns::start(config).expect("start");
    let feed_url = format!("http://{}", mock.feed_addr().expect("a feed"));
    let client = client(&pki, true);

    // A push before anyone follows counts: the feed starts at the mock's first delivery.
    assert_eq!(
        post(&client, &mock, TOPIC, "{\"mdm\":\"M1\"}")
            .await
            .expect("answer")
            .0,
        200
    );
    let feed = PushFeed::follow(&feed_url);
    assert_eq!(
        feed.wait_for_push(TOKEN, 0, Duration::from_secs(10)).await,
        Some(1)
    );

    // A sleeping follower is woken by the next push, and only by a push to its own token.
    let other = "ff".repeat(32);
    let waiting = feed.wait_for_push(TOKEN, 1, Duration::from_secs(10));
    let (woken, answer) = tokio::join!(waiting, post(&client, &mock, TOPIC, "{\"mdm\":\"M2\"}"));
    assert_eq!(answer.expect("answer").0, 200);
    assert_eq!(woken, Some(2));
    assert_eq!(
        feed.wait_for_push(&other, 0, Duration::from_millis(300))
            .await,
        None
    );
    assert_eq!((feed.pushes_to(TOKEN), feed.total()), (2, 2));

    // The raw page: numbered deliveries after `after`, and `next` to continue from.
    let page = reqwest::get(format!("{feed_url}/pushes?after=1"))
        .await
        .expect("feed")
        .bytes()
        .await
        .expect("body");
    let page: serde_json::Value = serde_json::from_slice(&page).expect("json");
    assert_eq!(page["next"], 2);
    assert_eq!(page["pushes"][0]["seq"], 1);
    assert_eq!(page["pushes"][0]["push_magic"], "M2");
    let refused = reqwest::get(format!("{feed_url}/pushes?after=x"))
        .await
        .expect("feed");
    assert_eq!(refused.status(), 400);
    assert_eq!(feed.failures().0, 0);
}
