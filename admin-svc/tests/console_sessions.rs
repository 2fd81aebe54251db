//! The console's sessions over HTTP, on both engines: the cookie's attributes, the CSRF token on
//! every change, scopes that follow the token (revoking it ends its sessions), sign-out, and
//! the page's security headers. The browser tests (`console_browser.rs`) drive the same through
//! Chromium; these pin each rule down on its own.

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::{start, Admin};
use testkit::{Engine, Stack};

/// A client of the console endpoints with one cookie (or none).
struct Console {
    client: reqwest::Client,
    url: String,
    cookie: Option<String>,
}

impl Console {
    fn new(stack: &Stack) -> Console {
        Console {
            client: stack.admin_client(),
            url: stack.admin_url.clone(),
            cookie: None,
        }
    }

    /// Signs in with `token`: the answer and the `Set-Cookie` header.
    async fn sign_in(&mut self, token: &str) -> (StatusCode, Value, Option<String>) {
        let response = self
            .client
            .post(format!("{}/console/session", self.url))
            .header("content-type", "application/json")
            .body(json!({"token": token}).to_string())
            .send()
            .await
            .expect("admin-svc answers");
        let status = response.status();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().expect("ASCII").to_owned());
        if let Some(cookie) = &set_cookie {
            let pair = cookie.split(';').next().expect("a pair");
            self.cookie = Some(pair.to_owned());
        }
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body, set_cookie)
    }

    /// `method path` with the cookie, the CSRF header if given, and a JSON body if given.
    async fn call(
        &self,
        method: Method,
        path: &str,
        csrf: Option<&str>,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("admin-svc answers");
        let status = response.status();
        let bytes = response.bytes().await.expect("a body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None, None, &[]).await
    }
}

async fn sessions_follow_their_token(engine: Engine) {
    let Some(stack) = start(engine).await else {
        return;
    };
    let ops = Admin::ops(&stack);
    let made = ops
        .post(
            "/v1/admin-tokens",
            &json!({"name": "helpdesk", "scopes": ["read", "commands"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let token_id = made["token"]["id"].as_str().expect("id").to_owned();

    let mut console = Console::new(&stack);
    let (status, _, _) = console.sign_in("not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(console.get("/v1/devices").await.0, StatusCode::UNAUTHORIZED);

    let (status, info, set_cookie) = console.sign_in(&secret).await;
    assert_eq!(status, StatusCode::CREATED, "{info}");
    let set_cookie = set_cookie.expect("a cookie");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert_eq!(info["name"], "helpdesk");
    assert_eq!(info["scopes"], json!(["read", "commands"]));
    let csrf = info["csrf_token"].as_str().expect("csrf").to_owned();

    // Reads need the cookie only; the session says who it is after a reload.
    assert_eq!(console.get("/v1/devices").await.0, StatusCode::OK);
    let (status, again) = console.get("/console/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["csrf_token"], csrf.as_str());

    // A change needs the session's CSRF token: absent, wrong, or another session's is refused.
    let token_body = json!({"description": "lobby iPads"});
    let mut other = Console::new(&stack);
    let (_, other_info, _) = other.sign_in(testkit::stack::ADMIN_TOKEN).await;
    let other_csrf = other_info["csrf_token"].as_str().expect("csrf").to_owned();
    for wrong in [None, Some("forged"), Some(other_csrf.as_str())] {
        let (status, problem) = console
            .call(
                Method::POST,
                "/v1/enrollment-tokens",
                wrong,
                Some(token_body.clone()),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{wrong:?}: {problem}");
        assert_eq!(problem["code"], "csrf_rejected");
    }
    // A request the browser marks as another site's is refused even with the token.
    let (status, _) = console
        .call(
            Method::POST,
            "/v1/enrollment-tokens",
            Some(&csrf),
            Some(token_body.clone()),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, created) = console
        .call(
            Method::POST,
            "/v1/enrollment-tokens",
            Some(&csrf),
            Some(token_body),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["token"]["created_by"], "helpdesk",
        "the session acts as its token"
    );

    // The session has its token's scopes and no more.
    let (status, problem) = console
        .call(
            Method::POST,
            "/v1/commands",
            Some(&csrf),
            Some(json!({"devices": ["D1"], "command": {"request_type": "EraseDevice"}, "reason": "stolen"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(problem["code"], "forbidden");

    // Revoking the token ends its sessions at once.
    ops.post(&format!("/v1/admin-tokens/{token_id}/revoke"), &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(console.get("/v1/devices").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        console.get("/console/session").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = Console::new(&stack).sign_in(&secret).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a revoked token opens nothing"
    );

    // Sign-out needs the CSRF token, clears the cookie and ends the session for good.
    let (status, _) = other
        .call(Method::DELETE, "/console/session", None, None, &[])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = other
        .client
        .delete(format!("{}/console/session", other.url))
        .header("cookie", other.cookie.clone().expect("cookie"))
        .header("x-csrf-token", &other_csrf)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared = response.headers()["set-cookie"].to_str().expect("ASCII");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(other.get("/v1/devices").await.0, StatusCode::UNAUTHORIZED);

    // Both sign-ins and the sign-out are in the audit log.
    let audit = ops
        .get("/v1/audit?action=console.signed_in")
        .await
        .expect(StatusCode::OK);
    let actors: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["actor"].as_str())
        .collect();
    assert!(
        actors.contains(&"helpdesk") && actors.contains(&"ops"),
        "{audit:#}"
    );
    let signed_out = ops
        .get("/v1/audit?action=console.signed_out")
        .await
        .expect(StatusCode::OK);
    assert_eq!(signed_out["items"][0]["actor"], "ops");
}

#[tokio::test]
async fn sessions_follow_their_token_on_sqlite() {
    sessions_follow_their_token(Engine::Sqlite).await;
}

#[tokio::test]
async fn sessions_follow_their_token_on_postgres() {
    sessions_follow_their_token(Engine::Postgres).await;
}

#[tokio::test]
async fn the_page_is_served_with_a_strict_policy_and_login_csrf_is_refused() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let client = stack.admin_client();
    let page = client
        .get(format!("{}/", stack.admin_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("ASCII")
        .to_owned();
    for directive in [
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.text().await.expect("text").contains("/console/app.js"));

    let script = client
        .get(format!("{}/console/app.js", stack.admin_url))
        .send()
        .await
        .expect("answers");
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"]
        .to_str()
        .expect("ASCII")
        .starts_with("text/javascript"));
    for missing in [
        "/console/nothing.js",
        "/console/index.html",
        "/console/../Cargo.toml",
    ] {
        let answer = client
            .get(format!("{}{missing}", stack.admin_url))
            .send()
            .await
            .expect("answers");
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{missing}");
    }

    // The QR code is drawn for a session only.
    let mut console = Console::new(&stack);
    let qr = "/console/qr.svg?text=https%3A%2F%2Fmdm.example%2Fenroll%3Ftoken%3Dabc";
    assert_eq!(console.get(qr).await.0, StatusCode::UNAUTHORIZED);
    console.sign_in(testkit::stack::READ_ONLY_TOKEN).await;
    let response = client
        .get(format!("{}{qr}", stack.admin_url))
        .header("cookie", console.cookie.clone().expect("cookie"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert!(response.text().await.expect("svg").contains("<svg"));
    let too_long = format!("/console/qr.svg?text={}", "a".repeat(2000));
    assert_eq!(
        console.get(&too_long).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Sign-in takes JSON only, and not from another site (login CSRF).
    for (content_type, site) in [
        ("text/plain", "same-origin"),
        ("application/x-www-form-urlencoded", "same-origin"),
        ("application/json", "cross-site"),
    ] {
        let answer = client
            .post(format!("{}/console/session", stack.admin_url))
            .header("content-type", content_type)
            .header("sec-fetch-site", site)
            .body(json!({"token": testkit::stack::ADMIN_TOKEN}).to_string())
            .send()
            .await
            .expect("answers");
        assert!(
            answer.headers().get("set-cookie").is_none(),
            "{content_type} {site}"
        );
        assert!(answer.status().is_client_error(), "{content_type} {site}");
    }

    // A bearer token wins over a cookie: an API client is never steered by a session.
    assert_eq!(console.get("/v1/devices").await.0, StatusCode::OK);
    let (status, _) = console
        .call(
            Method::GET,
            "/v1/devices",
            None,
            None,
            &[("authorization", "Bearer not-a-token")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
