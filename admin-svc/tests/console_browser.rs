//! The web console in a real headless Chromium against a real stack with simulated devices that
//! fetch and answer their commands. Every page visited is saved under
//! `artifacts/console-screenshots/` and checked by axe-core.

mod support;

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;
use support::browser::Browser;
use support::{start, Admin};
use testkit::{messages, Engine, Stack, TestDevice};

/// A device that fetches its commands every few hundred milliseconds and answers each as an
/// iPhone would answer DeviceInformation. Runs until the test's other future ends.
async fn answer_commands(stack: &Stack, device: &TestDevice) {
    let answer = "<key>QueryResponses</key><dict>\
        <key>OSVersion</key><string>18.2</string>\
        <key>DeviceName</key><string>Front desk iPhone</string>\
        <key>BatteryLevel</key><real>0.82</real></dict>";
    loop {
        match device.idle(stack).await {
            Ok(Some(command)) => {
                let _ = device
                    .acknowledge(stack, &command.command_uuid, answer)
                    .await;
            }
            _ => tokio::time::sleep(Duration::from_millis(300)).await,
        }
    }
}

/// Enrolls a device with its own serial number and name.
async fn enroll(stack: &Stack, udid: &str, serial: &str, name: &str) -> TestDevice {
    TestDevice::enroll_with(stack, udid, messages::authenticate_as(udid, serial, name))
        .await
        .expect("the device enrolls")
}

/// Signs in with `token` from the sign-in page.
async fn sign_in(browser: &Browser, stack: &Stack, token: &str) {
    browser.open(&format!("{}/", stack.admin_url)).await;
    browser.wait("#signin-form").await;
    browser.fill("#token", token).await;
    browser.click("#signin-submit").await;
    browser.wait("#dashboard").await;
}

/// The text of `css` whether shown or folded away (a closed `<details>`).
async fn text_content(browser: &Browser, css: &str) -> String {
    let text = browser
        .client()
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : '';",
            vec![json!(css)],
        )
        .await
        .expect("the page answers");
    text.as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn an_administrator_finds_a_device_asks_it_and_enrolls_more() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    enroll(&stack, "UDID-CONSOLE-1", "C39CONSOLE01", "Warehouse iPad").await;
    let device = enroll(&stack, "UDID-CONSOLE-2", "C39CONSOLE02", "Front desk").await;
    let browser = Browser::start("ops").await;
    tokio::select! {
        () = answer_commands(&stack, &device) => unreachable!("the device loop never ends"),
        () = ops_journey(&stack, &browser, &device) => {}
    }
    browser.close().await;
}

/// A DDM status report from `device`: the declaration `identifier` active and valid at `token`.
async fn report_declaration(
    stack: &Stack,
    device: &TestDevice,
    udid: &str,
    identifier: &str,
    token: &str,
) {
    let report = json!({"StatusItems": {"management": {"declarations": {"configurations": [
        {"identifier": identifier, "active": true, "valid": "valid", "server-token": token}]}}},
        "Errors": []});
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
         <key>MessageType</key><string>DeclarativeManagement</string>\
         <key>UDID</key><string>{udid}</string><key>Endpoint</key><string>status</string>\
         <key>Data</key><data>{}</data></dict></plist>",
        base64::engine::general_purpose::STANDARD.encode(report.to_string())
    );
    let (status, answer) = device
        .put(stack, "/checkin", body.into_bytes())
        .await
        .expect("the edge answers");
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

async fn ops_journey(stack: &Stack, browser: &Browser, device: &TestDevice) {
    browser.open(&format!("{}/", stack.admin_url)).await;
    browser.wait("#signin-form").await;
    browser.check_page("signin").await;
    browser.fill("#token", "not-a-token").await;
    browser.click("#signin-submit").await;
    browser
        .wait_text("#signin-error", |t| !t.trim().is_empty())
        .await;
    browser.fill("#token", testkit::stack::ADMIN_TOKEN).await;
    browser.click("#signin-submit").await;
    browser.wait("#dashboard").await;
    browser.wait_text("#whoami", |t| t.contains("ops")).await;
    browser.check_page("dashboard").await;

    // Find the device by its serial number.
    browser.click("#nav-devices").await;
    browser.wait("#devices-table").await;
    browser.choose("#device-search-field", "serial").await;
    browser.fill("#device-search", "C39CONSOLE02").await;
    browser.click("#device-search-submit").await;
    browser
        .wait_text("#devices-table tbody", |t| {
            t.contains("Front desk") && !t.contains("Warehouse")
        })
        .await;
    browser.check_page("devices").await;

    // The server sorts the fleet: by name from Z to A, then (a click on the heading) A to Z.
    browser
        .open(&format!("{}/#/devices?sort=name&desc=1", stack.admin_url))
        .await;
    browser
        .wait_text("#devices-table tbody tr:first-child", |t| {
            t.contains("Warehouse")
        })
        .await;
    browser.click("#devices-table th[aria-sort] a.sort").await;
    browser
        .wait_text("#devices-table tbody tr:first-child", |t| {
            t.contains("Front desk")
        })
        .await;
    browser
        .click("tr[data-enrollment-id=\"UDID-CONSOLE-2\"] a.device-link")
        .await;
    browser.wait("#device-page").await;
    browser
        .wait_text("#device-facts", |t| t.contains("C39CONSOLE02"))
        .await;
    browser.check_page("device").await;

    // Ask it for its facts, and see the answer arrive without a reload.
    browser.click("#send-command").await;
    browser.wait("#command-form").await;
    browser.choose("#command-type", "DeviceInformation").await;
    browser.check_page("send").await;
    browser.click("#command-submit").await;
    browser
        .wait_text("#confirm-devices", |t| {
            t.contains("UDID-CONSOLE-2") || t.contains("Front desk")
        })
        .await;
    browser.click("#confirm-ok").await;
    browser.wait("#command-page").await;
    browser
        .wait_text("#deliveries td.status", |t| t.trim() == "acknowledged")
        .await;
    browser
        .wait_text("#fanout [data-status=\"acknowledged\"]", |t| {
            t.contains('1')
        })
        .await;
    browser.check_page("command").await;
    browser
        .open(&format!("{}/#/devices/UDID-CONSOLE-2", stack.admin_url))
        .await;
    browser
        .wait_text("#device-history td.status", |t| t.trim() == "acknowledged")
        .await;
    let result = text_content(browser, "#device-history .result-tree").await;
    assert!(
        result.contains("OSVersion") && result.contains("18.2"),
        "{result}"
    );
    browser.check_page("device-history").await;

    // A request type without a typed form gets one from Apple's schema: its keys as fields,
    // sent with Apple's key names.
    browser.click("#send-command").await;
    browser.wait("#command-form").await;
    browser.choose("#command-type", "RemoveApplication").await;
    browser
        .fill("#command-fields [name=\"Identifier\"]", "com.example.notes")
        .await;
    browser.click("#command-submit").await;
    browser.wait("#confirm-devices").await;
    browser.click("#confirm-ok").await;
    browser.wait("#command-page").await;
    browser
        .wait_text("#command-page", |t| {
            t.contains("RemoveApplication") && t.contains("com.example.notes")
        })
        .await;

    // Make an enrollment token; its profile downloads and its QR code is drawn.
    browser.click("#nav-enrollment").await;
    browser.wait("#enrollment-create-form").await;
    browser.fill("#enrollment-description", "Lobby iPads").await;
    browser.click("#enrollment-create").await;
    let link = browser.wait("#enrollment-created #profile-url").await;
    let profile_url = link.attr("href").await.expect("href").expect("a link");
    let profile = testkit::https_client(&stack.device_ca.cert_pem(), None)
        .get(&profile_url)
        .send()
        .await
        .expect("the enrollment listener answers");
    assert_eq!(profile.status(), StatusCode::OK, "{profile_url}");
    assert_eq!(
        profile.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    // The QR code is drawn: its image loaded and has a size.
    browser
        .wait_until(
            "(() => { const img = document.querySelector('#enrollment-qr'); \
             return img && img.complete && img.naturalWidth > 0; })()",
        )
        .await;
    browser
        .wait_text("#enrollment-tokens", |t| t.contains("Lobby iPads"))
        .await;
    browser.check_page("enrollment").await;

    // Declarative management: a declaration in a set assigned to the device, which reports it
    // applied; the console lists it and shows the device's state.
    let admin = Admin::ops(stack);
    let stored = admin
        .send(
            Method::PUT,
            "/v1/declarations/passcode",
            &json!({"Type": "com.apple.configuration.passcode.settings",
                    "Payload": {"MinimumLength": 6}}),
        )
        .await
        .expect(StatusCode::OK);
    let token = stored["declaration"]["server_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    admin
        .send(
            Method::PUT,
            "/v1/declaration-sets/baseline",
            &json!({"declarations": ["passcode"]}),
        )
        .await
        .expect(StatusCode::OK);
    admin
        .post(
            "/v1/declaration-sets/baseline/devices",
            &json!({"assign": ["UDID-CONSOLE-2"]}),
        )
        .await
        .expect(StatusCode::OK);
    report_declaration(stack, device, "UDID-CONSOLE-2", "passcode", &token).await;
    browser.click("#nav-declarations").await;
    browser
        .wait_text("#declarations-table tbody", |t| t.contains("passcode"))
        .await;
    browser
        .wait_text("#declaration-sets-table tbody", |t| t.contains("baseline"))
        .await;
    browser.check_page("declarations").await;
    browser
        .click("tr[data-identifier=\"passcode\"] a.declaration-link")
        .await;
    browser
        .wait_text("#declaration-status-table tbody", |t| {
            t.contains("UDID-CONSOLE-2") && t.contains("current")
        })
        .await;
    browser
        .wait_text("#declaration-payload", |t| t.contains("MinimumLength"))
        .await;
    browser.check_page("declaration").await;

    // The push certificate and the audit log.
    browser.click("#nav-push").await;
    browser
        .wait_text("#push-topic", |t| t.contains(messages::TOPIC))
        .await;
    browser.check_page("push").await;
    browser.click("#nav-audit").await;
    browser
        .wait_text("#audit-table", |t| t.contains("console.signed_in"))
        .await;
    browser.check_page("audit").await;

    // A change without the session's CSRF token is refused; with it, it is made.
    let body = json!({"description": "made from a script"});
    let (status, problem) = browser
        .fetch("POST", "/v1/enrollment-tokens", Some(body.clone()), false)
        .await;
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["code"], "csrf_rejected");
    let (status, made) = browser
        .fetch("POST", "/v1/enrollment-tokens", Some(body), true)
        .await;
    assert_eq!(status, 201, "{made}");

    // Signing out ends the session, for this page and for anyone holding its cookie.
    let cookie = browser.session_cookie().await.expect("a session cookie");
    browser.click("#signout").await;
    browser.wait("#signin-form").await;
    let (status, _) = browser.fetch("GET", "/v1/devices", None, false).await;
    assert_eq!(status, 401);
    let replayed = stack
        .admin_client()
        .get(format!("{}/v1/devices", stack.admin_url))
        .header("cookie", format!("mdm_console={cookie}"))
        .send()
        .await
        .expect("admin-svc answers");
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_offers_only_what_its_token_may_do() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    enroll(&stack, "UDID-CONSOLE-9", "C39CONSOLE09", "Loaner").await;
    let made = Admin::ops(&stack)
        .post(
            "/v1/admin-tokens",
            &json!({"name": "helpdesk", "scopes": ["read", "commands"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let helpdesk = made["secret"].as_str().expect("secret").to_owned();
    let browser = Browser::start("scopes").await;

    // A token without `destructive` asks to erase: the server refuses, the page says so.
    sign_in(&browser, &stack, &helpdesk).await;
    browser
        .open(&format!("{}/#/devices/UDID-CONSOLE-9", stack.admin_url))
        .await;
    browser.click("#send-command").await;
    browser.wait("#command-form").await;
    browser.choose("#command-type", "EraseDevice").await;
    browser.fill("#command-reason", "reported stolen").await;
    browser.click("#command-submit").await;
    browser.wait("#confirm-dialog[open]").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_text("#form-error", |t| t.contains("destructive"))
        .await;
    browser.check_page("erase-refused").await;
    let erases = Admin::ops(&stack)
        .get("/v1/commands?request_type=EraseDevice")
        .await
        .expect(StatusCode::OK);
    assert_eq!(erases["items"], json!([]), "nothing was queued");
    browser.click("#signout").await;
    browser.wait("#signin-form").await;

    // A read-only token sees every page and no control that would fail.
    sign_in(&browser, &stack, testkit::stack::READ_ONLY_TOKEN).await;
    browser
        .open(&format!("{}/#/devices/UDID-CONSOLE-9", stack.admin_url))
        .await;
    browser
        .wait_text("#device-facts", |t| t.contains("C39CONSOLE09"))
        .await;
    assert!(!browser.has("#send-command").await, "no send button");
    browser.check_page("read-only-device").await;
    browser.click("#nav-devices").await;
    browser
        .wait_text("#devices-table tbody", |t| t.contains("Loaner"))
        .await;
    assert!(!browser.has("#send-to-selected").await);
    assert!(!browser.has("input.device-select").await);
    browser.click("#nav-enrollment").await;
    browser.wait("#enrollment-tokens").await;
    assert!(!browser.has("#enrollment-create-form").await);
    assert!(!browser.has("button.revoke-token").await);
    browser.click("#nav-push").await;
    browser.wait("#push-page").await;
    assert!(!browser.has("#push-upload-form").await);
    browser.check_page("read-only-push").await;
    browser.close().await;
}
