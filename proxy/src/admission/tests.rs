use super::*;

fn services(cache_ms: u64) -> Services {
    Services {
        admission_cache_ms: cache_ms,
        ..Services::default()
    }
}

fn key(cert: u8, id: &str) -> Key {
    ([cert; 32], id.to_owned())
}

const ADMITTED: Admitted = Admitted {
    policy: IdentityPolicy::CnEqualsUdid,
    generation: Some(3),
};

/// Admissions whose watch stream was just heard, with `ids` cached for certificate 1.
fn heard_with(ids: &[&str]) -> Admissions {
    let admissions = Admissions::new(&services(60_000));
    admissions.heard();
    for id in ids {
        admissions.remember(key(1, id), ADMITTED, 0);
    }
    admissions
}

#[test]
fn nothing_is_used_before_the_watch_stream_is_heard_or_after_it_is_lost() {
    let admissions = Admissions::new(&services(60_000));
    admissions.remember(key(1, "D1"), ADMITTED, 0);
    assert_eq!(
        admissions.cached(&key(1, "D1"), true),
        None,
        "not heard yet"
    );
    admissions.heard();
    admissions.remember(
        key(1, "D1"),
        ADMITTED,
        admissions.epoch.load(Ordering::Acquire),
    );
    assert_eq!(admissions.cached(&key(1, "D1"), true), Some(ADMITTED));
    admissions.lost();
    assert_eq!(admissions.cached(&key(1, "D1"), true), None, "lost");
    admissions.heard();
    assert_eq!(
        admissions.cached(&key(1, "D1"), true),
        None,
        "and forgotten"
    );
}

#[test]
fn a_silent_stream_stops_the_cache_within_the_coherence_bound() {
    let admissions = Admissions::new(&Services {
        admission_coherence_ms: 500,
        ..services(60_000)
    });
    admissions.heard();
    admissions.remember(key(1, "D1"), ADMITTED, 0);
    assert!(admissions.cached(&key(1, "D1"), true).is_some());
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(admissions.cached(&key(1, "D1"), true), None);
}

#[test]
fn a_device_change_forgets_the_device_and_its_user_channels_only() {
    let admissions = heard_with(&["D1", "D1:U1", "D10", "D2"]);
    admissions.apply(Some(admission_change::Change::DeviceId("D1".into())));
    assert_eq!(admissions.cached(&key(1, "D1"), true), None);
    assert_eq!(admissions.cached(&key(1, "D1:U1"), true), None);
    assert_eq!(admissions.cached(&key(1, "D10"), true), Some(ADMITTED));
    assert_eq!(admissions.cached(&key(1, "D2"), true), Some(ADMITTED));
    assert_eq!(
        admissions.cached(&key(2, "D2"), true),
        None,
        "keyed by certificate too"
    );
}

#[test]
fn a_revocation_forgets_the_certificate_and_a_reset_forgets_all() {
    let admissions = heard_with(&["D1"]);
    admissions.remember(
        key(2, "D2"),
        ADMITTED,
        admissions.epoch.load(Ordering::Acquire),
    );
    admissions.apply(Some(admission_change::Change::CertSha256(vec![1; 32])));
    assert_eq!(admissions.cached(&key(1, "D1"), true), None);
    assert_eq!(admissions.cached(&key(2, "D2"), true), Some(ADMITTED));
    admissions.apply(Some(admission_change::Change::CertSha256(vec![2; 5])));
    assert_eq!(
        admissions.cached(&key(2, "D2"), true),
        None,
        "unreadable: all"
    );
    let admissions = heard_with(&["D1", "D2"]);
    admissions.apply(Some(admission_change::Change::Reset(true)));
    assert_eq!(admissions.cached(&key(1, "D2"), true), None);
}

#[test]
fn an_answer_asked_for_before_a_change_is_not_cached_after_it() {
    let admissions = heard_with(&[]);
    let asked_at = admissions.epoch.load(Ordering::Acquire);
    admissions.forget_device("OTHER");
    admissions.remember(key(1, "D1"), ADMITTED, asked_at);
    assert_eq!(admissions.cached(&key(1, "D1"), true), None);
}

#[test]
fn a_check_in_admission_does_not_answer_for_the_command_channel() {
    let admissions = heard_with(&[]);
    let checkin = Admitted {
        generation: None,
        ..ADMITTED
    };
    admissions.remember(key(1, "D1"), checkin, 0);
    assert_eq!(admissions.cached(&key(1, "D1"), false), Some(checkin));
    assert_eq!(admissions.cached(&key(1, "D1"), true), None);
}

#[test]
fn zero_ttl_caches_nothing() {
    let admissions = Admissions::new(&services(0));
    admissions.heard();
    admissions.remember(key(1, "D1"), ADMITTED, 0);
    assert_eq!(admissions.cached(&key(1, "D1"), false), None);
}

#[test]
fn admission_can_run_in_the_device_path() {
    // DeviceApp::handle runs in pingora's Send futures: the admission must be Send.
    fn assert_send<T: Send>(_: T) {}
    let backends = Backends::new(&Services::default()).expect("default service URLs");
    let admissions = Admissions::new(&Services::default());
    let cert = ClientCertificate {
        sha256: [0; 32],
        common_name: String::new(),
        der: Vec::new().into(),
    };
    let enrollment = mdm_core::ChannelIds {
        udid: Some("D1".into()),
        ..Default::default()
    }
    .enrollment()
    .expect("ids");
    assert_send(admissions.admit(
        &backends,
        AuthMethod::Mtls,
        &cert,
        &enrollment,
        IdentityPolicy::CnEqualsUdid,
        true,
    ));
}
