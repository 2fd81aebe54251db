//! A real headless Chromium, driven through chromedriver (WebDriver), for the console's tests.
//! Each page visited can be saved as a screenshot under `artifacts/console-screenshots/` and
//! checked by axe-core (from `admin-svc/tests/browser/node_modules`, installed by `npm ci`):
//! a serious or critical accessibility violation fails the test.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(15);

/// chromedriver, stopped when the test ends.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One browser session.
pub struct Browser {
    client: Client,
    shots: PathBuf,
    axe: String,
    _profile: tempfile::TempDir,
    _driver: Driver,
}

/// The workspace's root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn need(path: &str, what: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: {what} (./test.sh installs it)"
    );
}

impl Browser {
    /// A new browser; its screenshots go to `artifacts/console-screenshots/<suite>-*.png`.
    pub async fn start(suite: &str) -> Browser {
        need(
            "/usr/bin/chromium",
            "the console tests drive Debian's chromium",
        );
        need(
            "/usr/bin/chromedriver",
            "the console tests drive chromium-driver",
        );
        let axe_path = workspace().join("admin-svc/tests/browser/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&axe_path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: run `npm ci --prefix admin-svc/tests/browser` (./test.sh does)",
                axe_path.display()
            )
        });
        let port = testkit::process::free_port();
        let child = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver(child);
        let profile = tempfile::tempdir().expect("a profile folder");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    // The stack's admin listener has a test CA's certificate.
                    "--ignore-certificate-errors",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            let mut builder = ClientBuilder::new(HttpConnector::new());
            match builder
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                // chromedriver is still starting.
                Err(_) if started.elapsed() < Duration::from_secs(20) => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("chromedriver did not start a session: {error}"),
            }
        };
        let shots = workspace().join("artifacts/console-screenshots");
        std::fs::create_dir_all(&shots).expect("the screenshot folder");
        Browser {
            client,
            shots: shots.join(suite),
            axe,
            _profile: profile,
            _driver: driver,
        }
    }

    /// The WebDriver client, for what these helpers do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    /// The element `css` once it is on the page (a failure shows the page).
    pub async fn wait(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(error) => self.fail(&format!("waiting for {css}: {error}")).await,
        }
    }

    /// Waits until `css`'s text satisfies `ready`; its text then.
    pub async fn wait_text(&self, css: &str, ready: impl Fn(&str) -> bool) -> String {
        self.poll(&format!("the text of {css}"), || async {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            let text = element.text().await.ok()?;
            ready(&text).then_some(text)
        })
        .await
    }

    /// Waits until the script `condition` (an expression) is true in the page.
    pub async fn wait_until(&self, condition: &str) {
        let script = format!("return Boolean({condition});");
        self.poll(condition, || async {
            let holds = self.client.execute(&script, vec![]).await.ok()?;
            (holds.as_bool() == Some(true)).then_some(())
        })
        .await
    }

    /// Asks `probe` every 150 ms until it answers, failing with the page after [`PATIENCE`].
    async fn poll<T, F, Fut>(&self, what: &str, probe: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let started = Instant::now();
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            if started.elapsed() > PATIENCE {
                self.fail(&format!("waiting for {what}")).await;
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Whether `css` matches anything now.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("the page answers")
            .is_empty()
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("a click");
    }

    /// Types `text` into the field `css`, replacing what it held.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(text).await.expect("typing");
    }

    /// Chooses `value` in the select `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.wait(css)
            .await
            .select_by_value(value)
            .await
            .expect("the option exists");
    }

    /// Saves the page as `<suite>-<name>.png` and checks it with axe-core: no serious or
    /// critical violation.
    pub async fn check_page(&self, name: &str) {
        self.screenshot(name).await;
        let injected = self.client.execute(&self.axe, vec![]).await;
        injected.expect("axe-core loads into the page");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(
                   r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => ({id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))),
                   e => done([{id: 'axe-failed', help: String(e)}]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let violations = found.as_array().cloned().unwrap_or_default();
        assert!(
            violations.is_empty(),
            "{name}: accessibility violations: {:#}",
            Value::Array(violations)
        );
    }

    /// Saves the page as `<suite>-<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let path = PathBuf::from(format!("{}-{name}.png", self.shots.display()));
        std::fs::write(&path, png).expect("the screenshot is saved");
    }

    /// `fetch` from inside the page (so with its cookie): the status and JSON body. `csrf`
    /// sends the session's CSRF token, read from `GET /console/session`.
    pub async fn fetch(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> (u16, Value) {
        let answer = self
            .client
            .execute_async(
                "const [method, path, body, csrf, done] = arguments;
                 (async () => {
                   const headers = {'content-type': 'application/json'};
                   if (csrf) {
                     const session = await fetch('/console/session', {credentials: 'same-origin'});
                     headers['x-csrf-token'] = (await session.json()).csrf_token;
                   }
                   const init = {method, headers, credentials: 'same-origin'};
                   if (body !== null) init.body = JSON.stringify(body);
                   const r = await fetch(path, init);
                   const text = await r.text();
                   let json = null;
                   try { json = JSON.parse(text); } catch (e) { json = text; }
                   done([r.status, json]);
                 })().catch(e => done([0, String(e)]));",
                vec![
                    json!(method),
                    json!(path),
                    body.unwrap_or(Value::Null),
                    json!(csrf),
                ],
            )
            .await
            .expect("the page fetches");
        let status = answer[0].as_u64().unwrap_or_default() as u16;
        (status, answer[1].clone())
    }

    /// The value of the session cookie, HttpOnly as it is (WebDriver sees it; scripts do not).
    pub async fn session_cookie(&self) -> Option<String> {
        let cookies = self.client.get_all_cookies().await.expect("cookies");
        cookies
            .iter()
            .find(|c| c.name() == "mdm_console")
            .map(|c| c.value().to_owned())
    }

    /// Fails the test with a screenshot and the page's text.
    pub async fn fail(&self, why: &str) -> ! {
        self.screenshot("failure").await;
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default();
        panic!("{why}\n--- {url} ---\n{text}");
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
