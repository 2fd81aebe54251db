//! `admin-tokens create|list|revoke` and `audit`: a token made through the API works at once
//! with the scopes it was given and no others, is refused once revoked, and both are in the
//! audit log.

use super::ctl::Ctl;
use crate::start;
use testkit::stack::READ_ONLY_TOKEN;
use testkit::Engine;

#[tokio::test]
async fn tokens_are_made_used_revoked_and_audited() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let ctl = Ctl::for_stack(&stack);

    // The configuration's tokens are listed first.
    let run = ctl.run(&["admin-tokens", "list"]).await.expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("ID"), "{}", run.stdout);
    assert!(lines[1].starts_with("config:ops"), "{}", run.stdout);
    assert!(lines[1].contains("admin"), "{}", run.stdout);

    let run = ctl
        .run(&[
            "admin-tokens",
            "create",
            "ci",
            "--scope",
            "read",
            "--expires-in",
            "1d",
            "-o",
            "json",
        ])
        .await
        .expect_code(0);
    let created = run.json();
    let id = created["token"]["id"].as_str().expect("an ID").to_owned();
    let secret = created["secret"].as_str().expect("a secret").to_owned();
    assert_eq!(created["token"]["scopes"], serde_json::json!(["read"]));
    assert!(run.stderr.contains("shown this once"), "{}", run.stderr);

    // The new token reads, and may do nothing else.
    let mut ci = Ctl::for_stack(&stack);
    ci.set("MDM_TOKEN", &secret);
    ci.run(&["devices", "list"]).await.expect_code(0);
    let run = ci.run(&["admin-tokens", "list"]).await.expect_code(1);
    assert!(
        run.stderr.contains("HTTP 403") && run.stderr.contains("admin scope"),
        "{}",
        run.stderr
    );
    let run = ctl.run(&["admin-tokens", "list"]).await.expect_code(0);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} listed:\n{}", run.stdout));
    assert!(
        row.contains("ci") && row.contains("active") && row.contains("read"),
        "{row}"
    );

    let run = ctl
        .run(&["admin-tokens", "revoke", &id])
        .await
        .expect_code(0);
    assert!(
        run.stdout.contains(&format!("revoked {id} (ci)")),
        "{}",
        run.stdout
    );
    let run = ci.run(&["devices", "list"]).await.expect_code(1);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    let run = ctl.run(&["admin-tokens", "list"]).await.expect_code(0);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with(&id) && l.contains("revoked")),
        "{}",
        run.stdout
    );

    // A token of the configuration is removed from the configuration, not here.
    let run = ctl
        .run(&["admin-tokens", "revoke", "config:ops"])
        .await
        .expect_code(1);
    assert!(run.stderr.contains("HTTP 409"), "{}", run.stderr);
    // Reading the audit log needs only `read`; making tokens needs `admin`.
    let mut auditor = Ctl::for_stack(&stack);
    auditor.set("MDM_TOKEN", READ_ONLY_TOKEN);
    auditor
        .run(&["admin-tokens", "create", "x", "--scope", "read"])
        .await
        .expect_code(1);
    let run = auditor
        .run(&["audit", "--action", "admin_token.created", "-o", "json"])
        .await
        .expect_code(0);
    let entries = run.json();
    let made = entries
        .as_array()
        .and_then(|all| all.first())
        .unwrap_or_else(|| panic!("an entry: {entries}"));
    assert_eq!(
        (made["actor"].as_str(), made["source"].as_str()),
        (Some("ops"), Some("admin-svc"))
    );
    let run = auditor.run(&["audit", "--limit", "1"]).await.expect_code(0);
    assert_eq!(
        run.stdout.lines().count(),
        2,
        "a header and the newest entry:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("admin_token.revoked"), "{}", run.stdout);
}
