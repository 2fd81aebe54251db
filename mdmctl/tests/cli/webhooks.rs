//! `webhooks` and `events`: a webhook registered through mdmctl is listed, shown with its
//! backlog, receives an enrolling device's events (here, an endpoint nobody listens on: they die
//! after the one attempt this stack allows, and are replayed), is paused, gets a new secret and
//! is deleted; the events it was sent are listed. And a refusal (an unknown ID, a missing scope)
//! is exit 1 with the server's detail.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::start_with;
use serde_json::Value;
use std::time::Duration;
use testkit::stack::READ_ONLY_TOKEN;
use testkit::{eventually, free_port, Engine, StackOptions};

/// How long the events of an enrollment may take to reach the webhook's deliveries.
const EVENT_WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn webhooks_are_registered_followed_and_removed() {
    let options = StackOptions {
        // One attempt: a delivery to nowhere is dead at once, to be replayed.
        admin_env: vec![("MDM_ADMIN_EVENTS__MAX_ATTEMPTS", "1".into())],
        ..StackOptions::new(Engine::Sqlite)
    };
    let Some(stack) = start_with(options).await else {
        return;
    };
    let ctl = Ctl::for_stack(&stack);
    let nowhere = format!("http://127.0.0.1:{}/hook", free_port());

    let run = ctl
        .run(&[
            "webhooks",
            "create",
            &nowhere,
            "--event",
            "enrollment.*",
            "--description",
            "lab",
        ])
        .await
        .expect_code(0);
    assert!(run.stderr.contains("shown this once"), "{}", run.stderr);
    let id = run.field("id");
    let secret = run.field("secret");
    assert!(secret.starts_with("whsec_"), "{}", run.stdout);
    assert_eq!(run.field("events"), "enrollment.*");
    assert_eq!(run.field("state"), "enabled");

    let run = ctl
        .run(&[
            "webhooks",
            "create",
            "https://hooks.example.com/mdm",
            "--format",
            "micromdm",
            "--secret",
            "a-secret-of-sixteen-or-more",
            "--disabled",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let other = run.json();
    let other_id = other["webhook"]["id"].as_str().expect("an ID").to_owned();
    assert_eq!(other["secret"], "a-secret-of-sixteen-or-more");
    assert_eq!(
        (&other["webhook"]["format"], &other["webhook"]["enabled"]),
        (&Value::from("micromdm"), &Value::from(false))
    );

    let run = ctl.run(&["webhooks", "list"]).await.expect_code(0);
    assert!(run.stdout.starts_with("ID"), "{}", run.stdout);
    let row = run.row(&id);
    assert!(
        row.contains(&nowhere) && row.contains("enabled") && row.contains("enrollment.*"),
        "{row}"
    );
    assert!(run.row(&other_id).contains("disabled"), "{}", run.stdout);
    let run = ctl
        .run(&["webhooks", "list", "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(
        run.json().as_array().map(Vec::len),
        Some(2),
        "{}",
        run.stdout
    );

    // An enrolling device's events (authenticated, token_update) are sent to the endpoint,
    // fail, and die.
    let _device = Device::enroll(&stack, CAPTURE_UDID).await;
    let (show, id_ref) = (&ctl, id.as_str());
    let shown = eventually(EVENT_WAIT, "two dead deliveries", move || async move {
        let run = show.run(&["webhooks", "show", id_ref, "-o", "json"]).await;
        let shown = run.expect_code(0).json();
        (shown["dead"].as_i64() >= Some(2) && shown["pending"] == 0).then_some(shown)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
    let dead = shown["dead"].as_i64().expect("a count");
    assert!(shown["last_error"].is_string(), "{shown}");
    let run = ctl.run(&["webhooks", "show", &id]).await.expect_code(0);
    assert!(run.stdout.starts_with("id "), "{}", run.stdout);
    assert_eq!(run.field("dead"), dead.to_string());
    for name in ["pending", "last_error", "retry_at", "consecutive_failures"] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(name)),
            "{name}:\n{}",
            run.stdout
        );
    }

    let run = ctl
        .run(&["webhooks", "deliveries", &id])
        .await
        .expect_code(0);
    assert!(run.stdout.starts_with("ID"), "{}", run.stdout);
    let rows: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(
        rows.len(),
        usize::try_from(dead).expect("a count"),
        "{}",
        run.stdout
    );
    assert!(
        rows.iter()
            .all(|r| r.contains("dead") && r.contains("enrollment.") && r.contains(CAPTURE_UDID)),
        "{}",
        run.stdout
    );
    // Newest first, one per page, to the end.
    let run = ctl
        .run(&[
            "webhooks",
            "deliveries",
            &id,
            "--status",
            "dead",
            "--limit",
            "1",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let newest = run.json();
    assert_eq!(newest.as_array().map(Vec::len), Some(1), "{newest}");
    let run = ctl
        .run(&["webhooks", "deliveries", &id, "--all", "-o", "json"])
        .await
        .expect_code(0);
    let all = run.json();
    let all = all.as_array().expect("an array");
    assert_eq!(all.first(), newest.get(0));
    assert!(all
        .windows(2)
        .all(|w| w[0]["id"].as_i64() > w[1]["id"].as_i64()));
    let run = ctl
        .run(&["webhooks", "deliveries", &id, "--status", "delivered"])
        .await
        .expect_code(0);
    assert!(run.stderr.contains("no deliveries match"), "{}", run.stderr);

    // Replayed: one named, then every dead one.
    let first = all[0]["id"].as_i64().expect("an ID").to_string();
    let run = ctl
        .run(&["webhooks", "replay", &id, "--delivery", &first])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout.trim(),
        format!("webhook {id}: 1 dead delivery replayed")
    );
    let run = ctl
        .run(&["webhooks", "replay", &id, "-o", "json"])
        .await
        .expect_code(0);
    assert!(run.json()["replayed"].as_u64().is_some(), "{}", run.stdout);

    let run = ctl
        .run(&["webhooks", "update", &id, "--disable", "--event", "*"])
        .await
        .expect_code(0);
    assert_eq!(
        run.stdout.trim(),
        format!("updated webhook {id}: disabled {nowhere} (*, mdm)")
    );
    let run = ctl
        .run(&[
            "webhooks",
            "update",
            &other_id,
            "--enable",
            "--description",
            "resumed",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let updated = run.json();
    assert_eq!(
        (&updated["enabled"], &updated["description"]),
        (&Value::from(true), &Value::from("resumed"))
    );
    // Nothing to change is a usage error; nothing is sent.
    let run = ctl.run(&["webhooks", "update", &id]).await.expect_code(2);
    assert!(
        run.stderr.contains("hint: pass --endpoint"),
        "{}",
        run.stderr
    );

    let run = ctl
        .run(&["webhooks", "rotate-secret", &id])
        .await
        .expect_code(0);
    assert!(run.stderr.contains("shown this once"), "{}", run.stderr);
    let rotated = run.field("secret");
    assert!(
        rotated.starts_with("whsec_") && rotated != secret,
        "{}",
        run.stdout
    );
    let run = ctl
        .run(&["webhooks", "rotate-secret", &other_id, "-o", "json"])
        .await
        .expect_code(0);
    assert_ne!(run.json()["secret"], "a-secret-of-sixteen-or-more");

    // The events the webhook was sent, oldest first.
    let run = ctl
        .run(&["events", "list", "--device", CAPTURE_UDID])
        .await
        .expect_code(0);
    assert!(run.stdout.starts_with("OCCURRED"), "{}", run.stdout);
    assert!(
        run.stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("enrollment.authenticated")),
        "{}",
        run.stdout
    );
    let run = ctl
        .run(&["events", "list", "--all", "-o", "json"])
        .await
        .expect_code(0);
    let events = run.json();
    let events = events.as_array().expect("an array");
    for delivery in all {
        assert!(
            events.iter().any(|e| e["id"] == delivery["event_id"]),
            "the event of {delivery} is listed:\n{}",
            run.stdout
        );
    }
    let run = ctl
        .run(&[
            "events",
            "list",
            "--type",
            "enrollment.authenticated",
            "--limit",
            "1",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let authenticated = run.json();
    let event_id = authenticated[0]["id"]
        .as_str()
        .expect("an event")
        .to_owned();
    assert_eq!(authenticated[0]["enrollment_id"], CAPTURE_UDID);
    let run = ctl.run(&["events", "show", &event_id]).await.expect_code(0);
    assert_eq!(run.field("type"), "enrollment.authenticated");

    let run = ctl.run(&["webhooks", "delete", &id]).await.expect_code(0);
    assert_eq!(run.stdout.trim(), format!("deleted webhook {id}"));
    let run = ctl
        .run(&["webhooks", "delete", &other_id, "-o", "json"])
        .await
        .expect_code(0);
    assert_eq!(run.stdout, "", "204 has no document to print");
    let run = ctl.run(&["webhooks", "list"]).await.expect_code(0);
    assert!(run.stderr.contains("no webhooks"), "{}", run.stderr);

    // Refusals: exit 1, the problem document's detail, and what to do.
    let run = ctl.run(&["webhooks", "show", &id]).await.expect_code(1);
    assert!(
        run.stderr.contains("reading webhook")
            && run.stderr.contains("HTTP 404")
            && run.stderr.contains("not_found")
            && run.stderr.contains("hint: check the ID"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    ctl.run(&["webhooks", "delete", &id]).await.expect_code(1);
    let mut auditor = Ctl::for_stack(&stack);
    auditor.set("MDM_TOKEN", READ_ONLY_TOKEN);
    let run = auditor.run(&["webhooks", "list"]).await.expect_code(1);
    assert!(
        run.stderr.contains("HTTP 403") && run.stderr.contains("webhooks"),
        "{}",
        run.stderr
    );
    // Reading events needs only `read`.
    auditor.run(&["events", "list"]).await.expect_code(0);
}
