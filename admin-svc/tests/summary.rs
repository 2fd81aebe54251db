//! `GET /v1/summary` counts what the services hold: devices in each status, seen lately and no
//! longer pushed; commands waiting and refused, the latest refusals with their reports; the push
//! certificate as `GET /v1/push-certificate` shows it. On both engines, with real devices.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use service_kit::db::{DatabaseConfig, Db};
use service_kit::with_db;
use support::{start, Admin};
use testkit::{messages, Engine, Stack, TestDevice};

const DAY_MS: i64 = 86_400_000;

/// A report's `ErrorChain`, as an iPhone sends it for a profile it cannot find.
const ERROR_CHAIN: &str = "<key>ErrorChain</key><array><dict>\
       <key>ErrorCode</key><integer>12021</integer>\
       <key>ErrorDomain</key><string>MCInstallationErrorDomain</string>\
       <key>LocalizedDescription</key><string>Profile not found</string>\
       <key>USEnglishDescription</key><string>Profile not found</string>\
     </dict></array>";

/// A device that sent Authenticate and nothing else.
async fn authenticate_only(stack: &Stack, udid: &str) {
    let cert = stack.device_ca.issue_client(udid);
    let answer = stack
        .device_client(Some(&cert))
        .put(format!("{}/checkin", stack.device_url))
        .body(messages::authenticate(udid))
        .send()
        .await
        .expect("the edge answers");
    assert_eq!(answer.status(), StatusCode::OK);
}

/// Queues `command` for `devices` without pushing; its CommandUUID.
async fn queue(ops: &Admin, devices: &[&str], command: Value) -> String {
    let queued = ops
        .post(
            "/v1/commands",
            &json!({"devices": devices, "command": command, "push": false}),
        )
        .await
        .expect(StatusCode::CREATED);
    queued["command_uuid"].as_str().expect("uuid").to_owned()
}

/// Sends a report with `status` for `uuid`; the command the server answers next, if any.
async fn report(
    stack: &Stack,
    device: &TestDevice,
    uuid: &str,
    status: &str,
    extra: &str,
) -> Option<String> {
    let body = messages::report(&device.udid, uuid, status, extra);
    let next = device.report(stack, body).await.expect("report");
    next.map(|n| n.command_uuid)
}

/// One of the stack's service databases (`enroll-svc`, `command-svc` or `push-svc`), to set
/// what no API can: a time long past, APNs's verdict on a token.
async fn database(stack: &Stack, service: &str) -> Db {
    let command = stack.command_database_url();
    let url = match service {
        "command-svc" => command.to_owned(),
        "enroll-svc" => stack
            .enroll_env()
            .iter()
            .find(|(key, _)| key == "MDM_ENROLL_DATABASE__URL")
            .map(|(_, url)| url.clone())
            .expect("enroll-svc's database"),
        _ => {
            // push-svc's is command-svc's sibling: the same directory or server.
            let names = stack.postgres_databases();
            let name = |of: &str| names.iter().find(|(s, _)| *s == of).map(|(_, n)| *n);
            match (name("command-svc"), name(service)) {
                (Some(theirs), Some(ours)) => command.replacen(theirs, ours, 1),
                _ => command.replacen("command.db", "push.db", 1),
            }
        }
    };
    Db::connect(&DatabaseConfig::default(), &url)
        .await
        .expect("connect")
}

/// Runs one statement with `(i64, &str)` parameters on `service`'s database.
async fn execute(stack: &Stack, service: &str, sql: &str, at: i64, id: &str) {
    let db = database(stack, service).await;
    let changed = with_db!(&db, pool => sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))
    .expect("the statement runs");
    assert_eq!(changed, 1, "{sql}");
}

async fn the_summary_counts_what_the_services_hold(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let certificate = ops.get("/v1/push-certificate").await.expect(StatusCode::OK);
    let empty = ops.get("/v1/summary").await.expect(StatusCode::OK);
    assert_eq!(
        empty,
        json!({
            "devices": {"total": 0, "authenticated": 0, "enrolled": 0, "checked_out": 0,
                        "seen_last_24h": 0, "inactive": 0, "identities_expiring_30d": 0},
            "commands": {"in_flight": 0, "errors_last_24h": 0, "recent_errors": []},
            "push_certificate": certificate,
        })
    );

    // A, B and C enrolled; D enrolled, then checked out; E only authenticated.
    let mut enrolled = Vec::new();
    for udid in ["UDID-SUM-A", "UDID-SUM-B", "UDID-SUM-C", "UDID-SUM-D"] {
        enrolled.push(TestDevice::enroll(&stack, udid).await.expect("enrolls"));
    }
    let (a, b, d) = (&enrolled[0], &enrolled[1], &enrolled[3]);
    let (status, _) = d
        .put(&stack, "/checkin", messages::check_out(&d.udid))
        .await
        .expect("check-out");
    assert_eq!(status, StatusCode::OK);
    authenticate_only(&stack, "UDID-SUM-E").await;

    // A refuses both its commands (one today, one two days ago); B acknowledges; C's waits.
    let profiles = queue(
        &ops,
        &["UDID-SUM-A", "UDID-SUM-B", "UDID-SUM-C"],
        json!({"request_type": "ProfileList"}),
    )
    .await;
    let certificates = queue(
        &ops,
        &["UDID-SUM-A"],
        json!({"request_type": "CertificateList"}),
    )
    .await;
    let head = a.idle(&stack).await.expect("idle").expect("a command");
    assert_eq!(head.command_uuid, profiles);
    let next = report(&stack, a, &profiles, "CommandFormatError", "").await;
    assert_eq!(next.as_deref(), Some(certificates.as_str()));
    assert_eq!(
        report(&stack, a, &certificates, "Error", ERROR_CHAIN).await,
        None
    );
    let head = b.idle(&stack).await.expect("idle").expect("a command");
    assert_eq!(head.command_uuid, profiles);
    let done = b
        .acknowledge(&stack, &profiles, "<key>ProfileList</key><array/>")
        .await
        .expect("report");
    assert_eq!(done, None);

    // What no API does: a refusal two days old, a device silent for two days, a token APNs
    // answered 410 Unregistered for.
    let two_days_ago = service_kit::now_ms() - 2 * DAY_MS;
    let old_refusal = "UPDATE deliveries SET completed_at = $1
         WHERE enrollment_id = 'UDID-SUM-A' AND command_uuid = $2";
    execute(&stack, "command-svc", old_refusal, two_days_ago, &profiles).await;
    let silent = "UPDATE enrollments SET last_seen_at = $1 WHERE id = $2";
    execute(&stack, "enroll-svc", silent, two_days_ago, "UDID-SUM-C").await;
    let gone = "UPDATE push_targets SET status = 'inactive', flag = 'Unregistered',
            inactive_at = $1 WHERE enrollment_id = $2";
    execute(
        &stack,
        "push-svc",
        gone,
        service_kit::now_ms(),
        "UDID-SUM-B",
    )
    .await;

    let summary = ops.get("/v1/summary").await.expect(StatusCode::OK);
    assert_eq!(
        summary["devices"],
        json!({"total": 5, "authenticated": 1, "enrolled": 3, "checked_out": 1,
               "seen_last_24h": 4, "inactive": 1, "identities_expiring_30d": 0}),
        "{summary:#}"
    );
    assert_eq!(summary["commands"]["in_flight"], 1, "C's ProfileList");
    assert_eq!(
        summary["commands"]["errors_last_24h"], 1,
        "the old refusal is not counted"
    );
    assert_eq!(summary["push_certificate"], certificate);

    // The latest refusals, newest first, exactly as the device's history shows them.
    let recent = summary["commands"]["recent_errors"]
        .as_array()
        .expect("recent errors");
    let uuids: Vec<&str> = recent
        .iter()
        .filter_map(|d| d["command_uuid"].as_str())
        .collect();
    assert_eq!(uuids, [certificates.as_str(), profiles.as_str()]);
    let latest = &recent[0];
    assert_eq!(
        (&latest["enrollment_id"], &latest["status"]),
        (&json!("UDID-SUM-A"), &json!("error"))
    );
    assert_eq!(latest["result"]["Status"], "Error");
    assert_eq!(latest["result"]["ErrorChain"][0]["ErrorCode"], 12021);
    assert_eq!(
        latest["result"]["ErrorChain"][0]["ErrorDomain"],
        "MCInstallationErrorDomain"
    );
    assert_eq!(recent[1]["status"], "command_format_error");
    let history = ops.all("/v1/devices/UDID-SUM-A/commands", 10).await;
    assert_eq!(recent.as_slice(), history.as_slice());

    // A read-only token reads the same; no token reads nothing.
    let audited = Admin::auditor(&stack).get("/v1/summary").await;
    assert_eq!(audited.expect(StatusCode::OK), summary);
    let anonymous = Admin::new(&stack, None).get("/v1/summary").await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.problem_code(), "unauthorized");
}

#[tokio::test]
async fn the_summary_counts_what_the_services_hold_on_sqlite() {
    the_summary_counts_what_the_services_hold(Engine::Sqlite).await;
}

#[tokio::test]
async fn the_summary_counts_what_the_services_hold_on_postgres() {
    the_summary_counts_what_the_services_hold(Engine::Postgres).await;
}
