//! `services` and `databases`: from admin-svc's `GET /v1/diagnostics`, is every service up with
//! its database answering, and has each database every migration its service's binary knows?

use super::report::Check;
use mdm_api::diagnostics::{Diagnostics, ServiceDiagnosis};

/// The admin setting naming each service, for fixes.
fn url_setting(service: &str) -> &'static str {
    match service {
        "enroll-svc" => "services.enroll_url",
        "command-svc" => "services.command_url",
        _ => "services.push_url",
    }
}

/// One service's diagnosis, if admin-svc asked it and it answered.
pub fn answered<'a>(diagnostics: &'a Diagnostics, service: &str) -> Option<&'a ServiceDiagnosis> {
    diagnostics
        .services
        .iter()
        .find(|s| s.service == service && s.reachable)
}

/// Why a check about `service` cannot run, when it did not answer.
pub fn unanswered(service: &str) -> String {
    format!("{service} did not answer (see `services`)")
}

/// Every service answers admin-svc and its database answers it.
pub fn services(diagnostics: &Diagnostics) -> Check {
    for service in &diagnostics.services {
        if !service.reachable {
            let why = service.error.clone().unwrap_or_default();
            return Check::fail(
                "services",
                format!("{} does not answer admin-svc: {why}", service.service),
                format!(
                    "start {0} (its log says why it stopped), and check that admin-svc's {1} reaches it",
                    service.service,
                    url_setting(&service.service)
                ),
            );
        }
        if let Some(database) = service
            .findings
            .iter()
            .find(|f| f.name == "database" && !f.ok)
        {
            return Check::fail(
                "services",
                format!("{}'s database does not answer: {}", service.service, database.detail),
                format!(
                    "check {}'s database.url and that its database server runs and accepts its connections",
                    service.service
                ),
            );
        }
    }
    let names: Vec<&str> = diagnostics
        .services
        .iter()
        .map(|s| s.service.as_str())
        .collect();
    Check::pass("services", format!("{} ready", names.join(", ")))
}

/// Every migration applied, in every database that answered.
pub fn databases(diagnostics: &Diagnostics) -> Check {
    let mut checked = 0;
    for service in diagnostics.services.iter().filter(|s| s.reachable) {
        let Some(migrations) = service.findings.iter().find(|f| f.name == "migrations") else {
            continue;
        };
        if !migrations.ok {
            return Check::fail(
                "databases",
                format!("{}'s database: {}", service.service, migrations.detail),
                format!(
                    "restart {}: it applies its migrations as it starts, and logs why one fails",
                    service.service
                ),
            );
        }
        checked += 1;
    }
    if checked == 0 {
        return Check::skip("databases", "no service answered (see `services`)");
    }
    Check::pass(
        "databases",
        format!("every migration applied in {checked} databases"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::diagnostics::Finding;

    fn service(name: &str, reachable: bool, findings: &[(&str, bool)]) -> ServiceDiagnosis {
        ServiceDiagnosis {
            service: name.into(),
            reachable,
            error: (!reachable).then(|| "Unavailable: connection refused".into()),
            findings: findings
                .iter()
                .map(|(n, ok)| Finding {
                    name: (*n).into(),
                    ok: *ok,
                    detail: format!("{n} detail"),
                })
                .collect(),
            facts: Default::default(),
        }
    }

    #[test]
    fn a_service_down_or_a_database_behind_fails_its_check() {
        let healthy = [("database", true), ("migrations", true)];
        let all = Diagnostics {
            services: vec![
                service("admin-svc", true, &healthy),
                service("push-svc", true, &healthy),
            ],
        };
        assert_eq!(services(&all).status, super::super::report::Status::Pass);
        let down = Diagnostics {
            services: vec![
                service("admin-svc", true, &healthy),
                service("enroll-svc", false, &[]),
            ],
        };
        let check = services(&down);
        assert!(
            check.summary.starts_with("enroll-svc does not answer"),
            "{check:?}"
        );
        assert!(check
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("services.enroll_url")));
        let behind = Diagnostics {
            services: vec![service(
                "command-svc",
                true,
                &[("database", true), ("migrations", false)],
            )],
        };
        assert_eq!(
            databases(&behind).summary,
            "command-svc's database: migrations detail"
        );
    }
}
