//! The simulator's client of the admin API (`devsim::admin::AdminApi`) against admin-svc as a
//! process: a command for more targets than ten pages hold has every delivery read, page by
//! page, in order and each once, on SQLite and on PostgreSQL; refusals come back as the problem
//! the server answered.
//!
//! Run: `cargo build --workspace --bins && cargo nextest run -p devsim --test admin_api`.

use devsim::admin::{count, AdminApi, AdminError};
use mdm_api::commands::DeliveryStatus;
use serde_json::json;
use testkit::stack::{ADMIN_TOKEN, READ_ONLY_TOKEN};
use testkit::{Engine, Stack, StackOptions};

/// A command for a fleet: more targets than ten pages of the largest size hold.
const TARGETS: usize = 10_500;

fn refusal(error: &anyhow::Error) -> &AdminError {
    error
        .downcast_ref::<AdminError>()
        .unwrap_or_else(|| panic!("not the API's refusal: {error:#}"))
}

#[tokio::test]
async fn every_delivery_is_read_across_pages_on_sqlite() {
    every_delivery_of_a_large_command_is_read_across_pages(Engine::Sqlite).await;
}

#[tokio::test]
async fn every_delivery_is_read_across_pages_on_postgres() {
    every_delivery_of_a_large_command_is_read_across_pages(Engine::Postgres).await;
}

async fn every_delivery_of_a_large_command_is_read_across_pages(engine: Engine) {
    let Some(stack) = Stack::start(StackOptions::new(engine))
        .await
        .expect("stack starts")
    else {
        eprintln!("PostgreSQL run skipped on purpose (MDM_TEST_POSTGRES=off)");
        return;
    };
    let api = AdminApi::new(&stack.admin_url, ADMIN_TOKEN, &stack.device_ca.cert_pem())
        .expect("admin client");
    // Devices that have not enrolled yet: the command waits for them.
    let ids: Vec<String> = (0..TARGETS).map(|i| format!("FUTURE-{i:05}")).collect();
    let queued = api
        .enqueue_body(json!({
            "devices": ids,
            "command": {"request_type": "ProfileList"},
            "allow_unknown": true,
            "push": false,
        }))
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", stack.logs()));
    assert_eq!(queued.targets as usize, TARGETS);
    assert!(!queued.push.attempted, "{queued:?}");

    let command = api.command(&queued.command_uuid).await.expect("command");
    assert_eq!(command.request_type, "ProfileList");
    assert_eq!(count(&command, DeliveryStatus::Queued) as usize, TARGETS);
    let deliveries = api
        .deliveries(&queued.command_uuid, None)
        .await
        .expect("deliveries");
    let read: Vec<&str> = deliveries
        .iter()
        .map(|d| d.enrollment_id.as_str())
        .collect();
    assert_eq!(read, ids, "every target once, in enrollment-ID order");
    assert!(deliveries
        .iter()
        .all(|d| d.status == DeliveryStatus::Queued && d.command_uuid == queued.command_uuid));
    let queued_only = api
        .deliveries(&queued.command_uuid, Some(DeliveryStatus::Queued))
        .await
        .expect("queued deliveries");
    assert_eq!(queued_only.len(), TARGETS);
    let none = api
        .deliveries(&queued.command_uuid, Some(DeliveryStatus::Acknowledged))
        .await
        .expect("acknowledged deliveries");
    assert!(none.is_empty(), "{none:?}");

    // Refusals: the problem document's status, code and detail.
    let error = api
        .enqueue(
            &["NOT-ENROLLED".to_owned()],
            json!({"request_type": "ProfileList"}),
        )
        .await
        .expect_err("an unknown device without allow_unknown");
    let refused = refusal(&error);
    assert_eq!(
        (refused.status, refused.code()),
        (422, Some("invalid_request"))
    );
    assert!(refused.detail().contains("NOT-ENROLLED"), "{refused}");
    let error = api
        .enqueue(&[], json!({"request_type": "ProfileList"}))
        .await
        .expect_err("no devices");
    assert_eq!(refusal(&error).status, 400, "{error:#}");
    let error = api
        .command("0190d4b2-0000-7000-8000-000000000000")
        .await
        .expect_err("no such command");
    assert_eq!(
        (refusal(&error).status, refusal(&error).code()),
        (404, Some("not_found"))
    );
    let error = api
        .enqueue(&ids[..1], json!("ProfileList"))
        .await
        .expect_err("a command is an object");
    assert!(error.downcast_ref::<AdminError>().is_none(), "{error:#}");
    let reader = AdminApi::new(
        &stack.admin_url,
        READ_ONLY_TOKEN,
        &stack.device_ca.cert_pem(),
    )
    .expect("admin client");
    let error = reader
        .enrollment_token("read-only", 1)
        .await
        .expect_err("read only");
    assert_eq!(
        (refusal(&error).status, refusal(&error).code()),
        (403, Some("forbidden"))
    );
    assert_eq!(
        reader
            .deliveries(&queued.command_uuid, None)
            .await
            .expect("a reader reads")
            .len(),
        TARGETS
    );
}
