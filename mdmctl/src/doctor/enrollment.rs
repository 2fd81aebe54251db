//! The enrollment side as a device meets it, at the URLs enroll-svc puts in its profiles:
//! `enrollment-listener` (the proxy answers at `enrollment.base_url`), `service-config`
//! (`/MDMServiceConfig` names this deployment's URLs, and the trust profile is served exactly
//! when the certificate is private), `scep` (GetCACaps and GetCACert answer with a usable CA).

use super::fetch::{excerpt, under, Fetcher, Page};
use super::report::Check;
use mdm_api::diagnostics::ServiceDiagnosis;
use openssl::pkcs7::Pkcs7;
use openssl::x509::X509;
use reqwest::{StatusCode, Url};

/// enroll-svc's enrollment settings, from its diagnosis.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `enrollment.base_url`: the proxy's enrollment listener.
    pub base: Url,
    /// `enrollment.server_url`: the proxy's device listener.
    pub server: Url,
    /// `enrollment.topic`: the push topic profiles name.
    pub topic: String,
    /// `enrollment.server_ca_file`'s roots: the trust profile's (empty: publicly trusted).
    pub roots: Vec<X509>,
}

/// The settings, or why they cannot be had (the reason a check is skipped or fails).
pub fn settings(enroll: &ServiceDiagnosis) -> Result<Settings, String> {
    let fact = |name: &str| enroll.facts.get(name).map(String::as_str).unwrap_or("");
    if fact("base_url").is_empty() {
        let why = enroll
            .findings
            .iter()
            .find(|f| f.name == "enrollment" && !f.ok)
            .map_or(
                "enroll-svc reports no enrollment settings".to_owned(),
                |f| f.detail.clone(),
            );
        return Err(why);
    }
    let url = |name: &str| {
        Url::parse(fact(name))
            .map_err(|e| format!("enroll-svc's enrollment.{name} {:?}: {e}", fact(name)))
    };
    let roots = X509::stack_from_pem(fact("server_roots_pem").as_bytes())
        .map_err(|e| format!("enroll-svc's enrollment.server_ca_file cannot be read back: {e}"))?;
    Ok(Settings {
        base: url("base_url")?,
        server: url("server_url")?,
        topic: fact("topic").to_owned(),
        roots,
    })
}

/// The fix when enroll-svc has no usable `[enrollment]`.
pub const SETTINGS_FIX: &str = "give enroll-svc an [enrollment] section: base_url (the proxy's enrollment listener), server_url (its device listener), topic (the push certificate's) — docs/getting-started.md";

/// A base URL as configured (`Url` adds a `/` to a bare host).
fn shown(url: &Url) -> &str {
    url.as_str().trim_end_matches('/')
}

/// `host` and port of an https URL.
pub fn host_port(url: &Url) -> (String, u16) {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .to_owned();
    (host, url.port_or_known_default().unwrap_or(443))
}

/// `enrollment-listener`: something answers HTTPS at the base URL. Answers the page of
/// `/MDMServiceConfig` for the checks after it.
pub async fn listener(fetcher: &Fetcher, settings: &Settings) -> (Check, Option<Page>) {
    let url = under(&settings.base, &["MDMServiceConfig"], None);
    match fetcher.get(url).await {
        Ok(page) => (
            Check::pass(
                "enrollment-listener",
                format!(
                    "{} answers (HTTP {})",
                    shown(&settings.base),
                    page.status.as_u16()
                ),
            ),
            Some(page),
        ),
        Err(why) => {
            let (host, port) = host_port(&settings.base);
            let check = Check::fail(
                "enrollment-listener",
                format!("nothing answers at {}: {why}", shown(&settings.base)),
                format!(
                    "turn on the proxy's enrollment listener ([enrollment] listen, cert_file, key_file; MDM_PROXY_ENROLLMENT__LISTEN=0.0.0.0:{port}) and let devices reach {host}:{port}, or correct enroll-svc's enrollment.base_url"
                ),
            );
            (check, None)
        }
    }
}

/// The fix of an enrollment route the proxy could not serve.
fn route_fix(status: StatusCode) -> String {
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::BAD_GATEWAY {
        "the proxy cannot reach enroll-svc: start it (see `services`) and check the proxy's services.enroll_url".into()
    } else {
        "read the proxy's and enroll-svc's logs for this request".into()
    }
}

/// `service-config`: `/MDMServiceConfig` names this deployment's enrollment URL, and the trust
/// profile is offered, and served, exactly when the TLS certificate has a private root.
pub async fn service_config(fetcher: &Fetcher, settings: &Settings, page: &Page) -> Check {
    const NAME: &str = "service-config";
    if page.status != StatusCode::OK {
        return Check::fail(
            NAME,
            format!(
                "/MDMServiceConfig answered HTTP {}: {}",
                page.status.as_u16(),
                excerpt(&page.body)
            ),
            route_fix(page.status),
        );
    }
    let config: serde_json::Value = match serde_json::from_slice(&page.body) {
        Ok(config) => config,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("/MDMServiceConfig is not JSON: {e}"),
                "make sure the URL reaches the proxy's enrollment listener, not another server",
            )
        }
    };
    let text = |key: &str| config.get(key).and_then(|v| v.as_str()).unwrap_or("");
    let expected = under(&settings.base, &["enroll"], None);
    if text("dep_enrollment_url") != expected.as_str() {
        return Check::fail(
            NAME,
            format!(
                "/MDMServiceConfig names {:?} where enroll-svc's settings say {expected}",
                text("dep_enrollment_url")
            ),
            "the proxy at enrollment.base_url asks another enroll-svc: point its services.enroll_url at this deployment's",
        );
    }
    let trust_url = text("trust_profile_url");
    match (settings.roots.is_empty(), trust_url.is_empty()) {
        (true, true) => Check::pass(NAME, "names this deployment's URLs; no trust profile (public certificate)"),
        (false, true) | (true, false) => Check::fail(
            NAME,
            "the trust profile is offered where enroll-svc has no private root, or the other way round",
            "restart the proxy and enroll-svc so that both read the current enrollment.server_ca_file",
        ),
        (false, false) => trust_profile(fetcher, trust_url, settings.roots.len()).await,
    }
}

async fn trust_profile(fetcher: &Fetcher, url: &str, roots: usize) -> Check {
    const NAME: &str = "service-config";
    let Ok(url) = Url::parse(url) else {
        return Check::fail(
            NAME,
            format!("trust_profile_url {url:?} is not a URL"),
            "check enroll-svc's enrollment.base_url",
        );
    };
    match fetcher.get(url.clone()).await {
        Ok(page) if page.status == StatusCode::OK && !page.body.is_empty() => Check::pass(
            NAME,
            format!("names this deployment's URLs; the trust profile ({roots} root(s)) is served at {url}"),
        ),
        Ok(page) => Check::fail(
            NAME,
            format!("the trust profile answered HTTP {}: {}", page.status.as_u16(), excerpt(&page.body)),
            route_fix(page.status),
        ),
        Err(why) => Check::fail(NAME, format!("the trust profile at {url}: {why}"), "check that the trust profile's URL reaches the enrollment listener"),
    }
}

/// One SCEP GET operation answered 200, or what went wrong and its fix.
async fn scep_operation(
    fetcher: &Fetcher,
    settings: &Settings,
    operation: &str,
) -> Result<Page, (String, String)> {
    let url = under(
        &settings.base,
        &["scep"],
        Some(&format!("operation={operation}")),
    );
    match fetcher.get(url).await {
        Ok(page) if page.status == StatusCode::OK => Ok(page),
        Ok(page) => Err((
            format!(
                "{operation} answered HTTP {}: {}",
                page.status.as_u16(),
                excerpt(&page.body)
            ),
            route_fix(page.status),
        )),
        Err(why) => Err((
            format!("{operation}: {why}"),
            route_fix(StatusCode::BAD_GATEWAY),
        )),
    }
}

/// `scep`: the device CA's SCEP server answers GetCACaps and GetCACert with a CA in date.
pub async fn scep(fetcher: &Fetcher, settings: &Settings) -> Check {
    const NAME: &str = "scep";
    let caps = match scep_operation(fetcher, settings, "GetCACaps").await {
        Ok(page) => excerpt_lines(&page.body),
        Err((summary, fix)) => return Check::fail(NAME, summary, fix),
    };
    let page = match scep_operation(fetcher, settings, "GetCACert").await {
        Ok(page) => page,
        Err((summary, fix)) => return Check::fail(NAME, summary, fix),
    };
    let ca_fix =
        "check enroll-svc's [ca] (cert_file and key_file, or the generated CA) and its log";
    let Some(ca) = ca_certificate(&page.body) else {
        return Check::fail(
            NAME,
            format!("GetCACert answered no certificate ({})", page.content_type),
            ca_fix,
        );
    };
    let expired = openssl::asn1::Asn1Time::days_from_now(0).map(|now| ca.not_after() < now);
    if expired.unwrap_or(false) {
        return Check::fail(
            NAME,
            format!("the device CA expired on {}", ca.not_after()),
            ca_fix,
        );
    }
    let subject = ca
        .subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .unwrap_or_else(|| "(no CN)".to_owned());
    Check::pass(
        NAME,
        format!(
            "CA {subject:?} until {}; capabilities {caps}",
            ca.not_after()
        ),
    )
}

/// GetCACaps' lines joined, bounded.
fn excerpt_lines(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let caps: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(20)
        .collect();
    caps.join(",")
}

/// The CA of a GetCACert answer: one DER certificate, or a PKCS#7 degenerate bundle (CA and
/// RA) whose first self-issued certificate is the CA.
fn ca_certificate(body: &[u8]) -> Option<X509> {
    if let Ok(cert) = X509::from_der(body) {
        return Some(cert);
    }
    let bundle = Pkcs7::from_der(body).ok()?;
    let certs = bundle.signed()?.certificates()?;
    let all: Vec<X509> = certs.iter().map(ToOwned::to_owned).collect();
    let self_issued = all.iter().find(|c| {
        c.issuer_name()
            .try_cmp(c.subject_name())
            .is_ok_and(|o| o.is_eq())
    });
    self_issued.or(all.first()).cloned()
}
