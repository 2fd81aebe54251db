//! push-svc's part of `mdm.v1.Diagnostics`: can this replica reach APNs with each topic's
//! certificate? One fresh TLS and HTTP/2 connection per topic, to the endpoint of the
//! certificate's environment, and a request that cannot push (`ApnsClient::probe`): a probe
//! must never wake a device.

use crate::current::CertificateCache;
use service_kit::diagnostics::{finding, Extra, Probe};
use std::sync::Arc;

/// The probe over the certificates in `cache`.
pub fn probe(cache: Arc<CertificateCache>) -> Probe {
    Arc::new(move || {
        let cache = Arc::clone(&cache);
        Box::pin(async move { apns(&cache).await })
    })
}

async fn apns(cache: &CertificateCache) -> Extra {
    let mut extra = Extra::default();
    let current = match cache.current().await {
        Ok(current) => current,
        Err(error) => {
            let why = format!("the push certificates cannot be read: {error}");
            extra.findings.push(finding("apns", false, why));
            return extra;
        }
    };
    if current.is_empty() {
        let why = "no push certificate is installed: nothing to connect to APNs with";
        extra.findings.push(finding("apns", false, why));
        return extra;
    }
    let mut topics: Vec<_> = current.values().collect();
    topics.sort_by(|a, b| a.row.topic.cmp(&b.row.topic));
    let probes = topics.iter().map(|active| async move {
        let client = &active.client;
        let name = format!("apns:{}", client.topic());
        match client.probe().await {
            Ok(took) => finding(
                &name,
                true,
                format!(
                    "{} accepted the certificate in {} ms (no push sent)",
                    client.endpoint(),
                    took.as_millis()
                ),
            ),
            Err(why) => finding(&name, false, why),
        }
    });
    extra.findings = futures::future::join_all(probes).await;
    extra
}
