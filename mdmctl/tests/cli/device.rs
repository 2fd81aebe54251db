//! A simulated device, as in `proxy/tests/command_queue.rs`: an identity certificate from the
//! test CA (CN = UDID), enrolled over mTLS with Authenticate and TokenUpdate, fetching commands
//! with Idle and answering them with reports shaped like real device captures.

use reqwest::StatusCode;
use std::time::Duration;
use testkit::messages as msg;
use testkit::{eventually, Stack};

/// The UDID in the real captures.
pub const CAPTURE_UDID: &str = "1c111c111c111c111c111c111c111c111c111c11";

/// A command as the device received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub command_uuid: String,
    pub request_type: String,
}

/// An enrolled device with one HTTPS connection.
pub struct Device {
    pub udid: String,
    url: String,
    client: reqwest::Client,
}

impl Device {
    /// Enrolls `udid` (Authenticate, TokenUpdate) on `stack`.
    pub async fn enroll(stack: &Stack, udid: &str) -> Device {
        let cert = stack.device_ca.issue_client(udid);
        let device = Device {
            udid: udid.to_owned(),
            url: stack.device_url.clone(),
            client: stack.device_client(Some(&cert)),
        };
        for body in [
            msg::authenticate(udid),
            msg::token_update(udid, &[7; 32], "magic"),
        ] {
            let (status, _) = device.put("/checkin", body).await;
            assert_eq!(status, StatusCode::OK, "{}", stack.logs());
        }
        device
    }

    async fn put(&self, path: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let response = self
            .client
            .put(format!("{}{path}", self.url))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} PUT {path}: {e}", self.udid));
        let status = response.status();
        (status, response.bytes().await.expect("body").to_vec())
    }

    /// Sends a report; returns the next command the server hands over, if any.
    pub async fn report(&self, body: Vec<u8>) -> Option<Received> {
        let (status, body) = self.put("/mdm", body).await;
        assert_eq!(status, StatusCode::OK, "{} report", self.udid);
        if body.is_empty() {
            return None;
        }
        let plist = plist::Value::from_reader_xml(body.as_slice()).expect("a command plist");
        let dict = plist.as_dictionary().expect("a dictionary");
        let text = |v: Option<&plist::Value>| v.and_then(|v| v.as_string()).map(str::to_owned);
        Some(Received {
            command_uuid: text(dict.get("CommandUUID")).expect("CommandUUID"),
            request_type: text(
                dict.get("Command")
                    .and_then(|c| c.as_dictionary())
                    .and_then(|c| c.get("RequestType")),
            )
            .expect("RequestType"),
        })
    }

    /// Idle: the next command, if any.
    pub async fn idle(&self) -> Option<Received> {
        self.report(msg::idle(&self.udid)).await
    }

    /// Answers `received` with a bare status (`NotNow`, `Acknowledged`).
    pub async fn answer(&self, received: &Received, status: &str) -> Option<Received> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>\
             <key>Status</key><string>{status}</string><key>UDID</key><string>{}</string>\
             <key>CommandUUID</key><string>{}</string></dict></plist>",
            self.udid, received.command_uuid
        );
        self.report(body.into_bytes()).await
    }

    /// Polls with Idle until a command arrives (mdmctl queues it meanwhile).
    pub async fn next_command(&self, within: Duration) -> Received {
        eventually(within, &format!("a command for {}", self.udid), || {
            self.idle()
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Answers `received` with a real iPad's DeviceInformation result, made this device's.
    pub async fn answer_device_information(&self, received: &Received) -> Option<Received> {
        assert_eq!(received.request_type, "DeviceInformation");
        let capture =
            testkit::fixture_text("commandment/testdata/DeviceInformation/iOS-11.3.1.xml");
        let report =
            with_command_uuid(&capture, &received.command_uuid).replace(CAPTURE_UDID, &self.udid);
        self.report(report.into_bytes()).await
    }
}

/// The capture with its CommandUUID replaced.
fn with_command_uuid(text: &str, command_uuid: &str) -> String {
    let start = text
        .find("<key>CommandUUID</key>")
        .expect("the capture has a CommandUUID");
    let open = start + text[start..].find("<string>").expect("a value") + "<string>".len();
    let close = open + text[open..].find("</string>").expect("its end");
    format!("{}{command_uuid}{}", &text[..open], &text[close..])
}
