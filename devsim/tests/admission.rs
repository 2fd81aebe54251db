//! One admission decision, kept coherent across edges. Two proxies in front of one set of
//! services; devices enrolled through the real direct profile and SCEP (so that our CA issued
//! their certificates and can revoke them) talk to both.
//!
//! - A warm admission costs no call: a device's second report reaches command-svc without any
//!   `Enrollment.Admit`; a cold one costs exactly one.
//! - A CheckOut through proxy A is refused at proxy B (401) within one second, and so is a
//!   revocation (403): enroll-svc streams the change to every proxy.
//! - An Authenticate succeeds while command-svc is down: enrollment does not call it.

use devsim::admin::AdminApi;
use devsim::sim::{
    enroll, DeviceFacts, Enrolled, EnrollmentFlow, EnrollmentServer, SimConfig, SimDevice,
    SimError, Transport,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use testkit::stack::{scrape, ADMIN_TOKEN};
use testkit::{Engine, Stack, StackOptions};
use tokio::time::Instant;

/// The bound the proxies are configured with (`services.admission_coherence_ms`, default).
const COHERENCE: Duration = Duration::from_secs(1);

struct World {
    stack: Stack,
    api: AdminApi,
}

async fn world(engine: Engine) -> Option<World> {
    let Some(stack) = Stack::start(StackOptions {
        proxies: 2,
        ..StackOptions::new(engine)
    })
    .await
    .expect("stack starts") else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return None;
    };
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    Some(World { stack, api })
}

impl World {
    /// A certificate from the direct profile (our CA), for the device `udid`.
    async fn identity(&self, udid: &str) -> Enrolled {
        let server = EnrollmentServer {
            enrollment_url: self.stack.enrollment_url.clone(),
            server_ca_pem: self.stack.device_ca.cert_pem(),
        };
        let flow = EnrollmentFlow::DirectProfile {
            token: self.api.enrollment_token("direct", 1).await.expect("token"),
        };
        enroll(&server, &flow, &DeviceFacts::iphone(udid, 0))
            .await
            .unwrap_or_else(|e| panic!("enrollment: {e}\n{}", self.stack.logs()))
    }

    /// The device `udid` with `identity`, talking to the proxy at `device_url`.
    fn device(&self, device_url: &str, udid: &str, identity: &Enrolled) -> SimDevice {
        let config = Arc::new(SimConfig::new(
            device_url,
            &self.stack.device_ca.cert_pem(),
            Transport::Mtls,
            testkit::pki::PUSH_TOPIC,
        ));
        SimDevice::new(0, udid, &identity.cert_pem, &identity.key_pem, config).expect("device")
    }

    /// A device enrolled through proxy A, the same device (same identity) at proxy B, and the
    /// identity.
    async fn device_at_both(&self, udid: &str) -> (SimDevice, SimDevice, Enrolled) {
        let identity = self.identity(udid).await;
        let mut at_a = self.device(&self.stack.device_url, udid, &identity);
        at_a.enroll()
            .await
            .unwrap_or_else(|e| panic!("enroll: {e}\n{}", self.stack.logs()));
        let at_b = self.device(&self.stack.proxies[0].device_url, udid, &identity);
        (at_a, at_b, identity)
    }

    /// Calls received by enroll-svc's `Admit` and command-svc's `Report` so far.
    async fn calls(&self) -> (f64, f64) {
        let admit = scrape(
            self.stack.enroll_metrics_addr,
            r#"mdm_grpc_requests_total{method="/mdm.v1.Enrollment/Admit"}"#,
        )
        .await
        .expect("enroll-svc metrics");
        let report = scrape(
            self.stack.command_metrics_addr,
            r#"mdm_grpc_requests_total{method="/mdm.v1.Commands/Report"}"#,
        )
        .await
        .expect("command-svc metrics");
        (admit, report)
    }

    /// How long until `device` (at proxy B) is refused with `status`, polling every 20 ms for
    /// twice the coherence bound.
    async fn refused_within(&self, device: &mut SimDevice, status: u16) -> Duration {
        let started = Instant::now();
        loop {
            match device.session().await {
                Err(SimError::Status { status: got, .. }) if got == status => {
                    return started.elapsed();
                }
                Ok(_) if started.elapsed() < COHERENCE * 2 => {}
                other => panic!(
                    "expected {status} within {COHERENCE:?}, got {other:?} after {:?}\n{}",
                    started.elapsed(),
                    self.stack.logs()
                ),
            }
            device.reconnect().expect("reconnect");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn admissions_are_cached_and_coherent_across_proxies(engine: Engine) {
    let Some(w) = world(engine).await else { return };

    // Warm: the first report at B asks once; the next asks nothing.
    let (mut at_a, mut at_b, _) = w.device_at_both("ADMIT-CHECKOUT").await;
    at_b.session().await.expect("B serves the device");
    // B uses cached admissions once it hears enroll-svc's stream of changes.
    let stream_up = (
        w.stack.proxies[0].health_addr,
        "mdm_proxy_admission_stream_up",
    );
    testkit::eventually(
        Duration::from_secs(10),
        "B to hear the admission stream",
        || async move {
            let up = scrape(stream_up.0, stream_up.1).await.ok()?;
            (up >= 1.0).then_some(())
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", w.stack.logs()));
    let before = w.calls().await;
    at_b.session().await.expect("B serves the device");
    let cold = w.calls().await;
    at_b.reconnect().expect("reconnect");
    at_b.session().await.expect("B serves the device");
    let warm = w.calls().await;
    assert!(
        cold.0 - before.0 <= 1.0,
        "at most one admission per miss: {before:?} → {cold:?}"
    );
    assert_eq!(
        warm.0, cold.0,
        "no admission call on a hit: {cold:?} → {warm:?}"
    );
    assert_eq!(warm.1, cold.1 + 1.0, "one report call per report");

    // CheckOut through A: refused at B within the bound.
    at_a.check_out().await.expect("CheckOut through A");
    let took = w.refused_within(&mut at_b, 401).await;
    eprintln!("CheckOut through A enforced at B after {took:?}");
    assert!(took < COHERENCE, "CheckOut enforced at B after {took:?}");

    // Revocation: refused at B within the bound.
    let (_at_a, mut at_b, identity) = w.device_at_both("ADMIT-REVOKE").await;
    at_b.session().await.expect("B serves the device");
    at_b.session()
        .await
        .expect("B serves the device from its cache");
    let serial = openssl::x509::X509::from_pem(identity.cert_pem.as_bytes())
        .and_then(|cert| {
            cert.serial_number()
                .to_bn()?
                .to_hex_str()
                .map(|s| s.to_string())
        })
        .expect("the certificate's serial");
    w.api
        .post(
            &format!("/v1/certificates/{serial}/revoke"),
            json!({"reason": "lost"}),
        )
        .await
        .expect("revoked");
    let took = w.refused_within(&mut at_b, 403).await;
    eprintln!("revocation enforced at B after {took:?}");
    assert!(took < COHERENCE, "revocation enforced at B after {took:?}");
}

#[tokio::test]
async fn admissions_are_cached_and_coherent_across_proxies_on_sqlite() {
    admissions_are_cached_and_coherent_across_proxies(Engine::Sqlite).await;
}

#[tokio::test]
async fn admissions_are_cached_and_coherent_across_proxies_on_postgres() {
    admissions_are_cached_and_coherent_across_proxies(Engine::Postgres).await;
}

#[tokio::test]
async fn authenticate_succeeds_while_command_svc_is_down() {
    let Some(mut w) = world(Engine::Sqlite).await else {
        return;
    };
    w.stack.command.kill();
    let identity = w.identity("NO-COMMAND-SVC").await;
    let mut device = w.device(&w.stack.device_url, "NO-COMMAND-SVC", &identity);
    device
        .enroll()
        .await
        .unwrap_or_else(|e| panic!("Authenticate and TokenUpdate: {e}\n{}", w.stack.logs()));
    // The command channel itself needs command-svc: 503, never 401.
    match device.session().await {
        Err(SimError::Status { status: 503, .. }) => {}
        other => panic!("expected 503, got {other:?}"),
    }
}
