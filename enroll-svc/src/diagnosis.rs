//! enroll-svc's part of `mdm.v1.Diagnostics`: the enrollment profile's settings as facts, so
//! that `mdmctl doctor` can compare them with what the other parts serve — the topic with the
//! push certificates, the URLs with the proxy's listeners, the private roots with the server
//! certificate devices are shown. Settings only; no secret is among them.

use crate::provisioning::Provisioning;
use service_kit::diagnostics::{finding, Extra, Probe};
use std::sync::Arc;

/// The probe over `provisioning`'s settings.
pub fn probe(provisioning: Provisioning) -> Probe {
    Arc::new(move || {
        let extra = enrollment(&provisioning);
        Box::pin(async move { extra })
    })
}

fn enrollment(provisioning: &Provisioning) -> Extra {
    let mut extra = Extra::default();
    let Ok(profiles) = provisioning.profiles() else {
        extra.findings.push(finding(
            "enrollment",
            false,
            "no [enrollment] section: no enrollment profile can be made",
        ));
        return extra;
    };
    let settings = profiles.settings();
    let mut roots = String::new();
    for root in profiles.server_roots() {
        match root.to_pem() {
            Ok(pem) => roots.push_str(&String::from_utf8_lossy(&pem)),
            Err(error) => {
                extra.findings.push(finding(
                    "enrollment",
                    false,
                    format!("a root of enrollment.server_ca_file cannot be encoded: {error}"),
                ));
                return extra;
            }
        }
    }
    let facts = [
        ("topic", settings.topic.clone()),
        ("base_url", settings.base().to_owned()),
        ("server_url", settings.server_url.clone()),
        (
            "check_in_url",
            settings.check_in_url.clone().unwrap_or_default(),
        ),
        ("sign_message", settings.sign_message.to_string()),
        ("server_roots_pem", roots),
    ];
    extra
        .facts
        .extend(facts.into_iter().map(|(k, v)| (k.to_owned(), v)));
    extra.findings.push(finding(
        "enrollment",
        true,
        format!("profiles name topic {}", settings.topic),
    ));
    extra
}
