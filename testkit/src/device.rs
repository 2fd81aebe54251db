//! A device driven by hand against a [`Stack`]: its identity certificate, one HTTPS connection
//! (as a device keeps between a push and the end of its session), check-ins and reports. Tests
//! that need exact control over what a device says use it; the simulator (`devsim`) is for
//! fleets.

use crate::messages;
use crate::pki::Issued;
use crate::stack::Stack;
use anyhow::{anyhow, Context};

/// A command the server answered a report with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Its CommandUUID.
    pub command_uuid: String,
    /// Its RequestType.
    pub request_type: String,
}

/// An enrolled device.
pub struct TestDevice {
    /// Its UDID (the CN of its certificate).
    pub udid: String,
    /// Its identity.
    pub cert: Issued,
    client: reqwest::Client,
}

impl TestDevice {
    /// A device presenting `cert` (from any CA) that has sent nothing yet: a device enrolled
    /// elsewhere, or one whose certificate the server must refuse.
    pub fn with_identity(stack: &Stack, udid: &str, cert: Issued) -> TestDevice {
        TestDevice {
            client: stack.device_client(Some(&cert)),
            udid: udid.to_owned(),
            cert,
        }
    }

    /// A device with a certificate from the stack's device CA that sent Authenticate and
    /// TokenUpdate (push token `[7; 32]`).
    pub async fn enroll(stack: &Stack, udid: &str) -> anyhow::Result<TestDevice> {
        TestDevice::enroll_with(stack, udid, messages::authenticate(udid)).await
    }

    /// [`TestDevice::enroll`] with this Authenticate message (another serial number or name).
    pub async fn enroll_with(
        stack: &Stack,
        udid: &str,
        authenticate: Vec<u8>,
    ) -> anyhow::Result<TestDevice> {
        let cert = stack.device_ca.issue_client(udid);
        let device = TestDevice {
            client: stack.device_client(Some(&cert)),
            udid: udid.to_owned(),
            cert,
        };
        for body in [
            authenticate,
            messages::token_update(udid, &[7; 32], "magic"),
        ] {
            let (status, answer) = device.put(stack, "/checkin", body).await?;
            anyhow::ensure!(
                status == reqwest::StatusCode::OK,
                "check-in answered {status}: {}",
                String::from_utf8_lossy(&answer)
            );
        }
        Ok(device)
    }

    /// `PUT <path>` on the device listener: the status and body.
    pub async fn put(
        &self,
        stack: &Stack,
        path: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(reqwest::StatusCode, Vec<u8>)> {
        let response = self
            .client
            .put(format!("{}{path}", stack.device_url))
            .body(body)
            .send()
            .await
            .with_context(|| format!("PUT {path}"))?;
        let status = response.status();
        Ok((status, response.bytes().await?.to_vec()))
    }

    /// Sends a report to the ServerURL; the next command, if the server answered one.
    pub async fn report(&self, stack: &Stack, body: Vec<u8>) -> anyhow::Result<Option<Received>> {
        let (status, body) = self.put(stack, "/mdm", body).await?;
        anyhow::ensure!(
            status == reqwest::StatusCode::OK,
            "report answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
        if body.is_empty() {
            return Ok(None);
        }
        let plist = plist::Value::from_reader_xml(body.as_slice()).context("a command plist")?;
        let dict = plist
            .as_dictionary()
            .ok_or_else(|| anyhow!("not a dictionary"))?;
        let text =
            |v: Option<&plist::Value>| v.and_then(plist::Value::as_string).map(str::to_owned);
        let command_uuid =
            text(dict.get("CommandUUID")).ok_or_else(|| anyhow!("no CommandUUID"))?;
        let request_type = text(
            dict.get("Command")
                .and_then(plist::Value::as_dictionary)
                .and_then(|c| c.get("RequestType")),
        )
        .ok_or_else(|| anyhow!("no RequestType"))?;
        Ok(Some(Received {
            command_uuid,
            request_type,
        }))
    }

    /// An Idle report.
    pub async fn idle(&self, stack: &Stack) -> anyhow::Result<Option<Received>> {
        self.report(stack, messages::idle(&self.udid)).await
    }

    /// Acknowledges `command_uuid` with `extra` plist entries (e.g. `QueryResponses`).
    pub async fn acknowledge(
        &self,
        stack: &Stack,
        command_uuid: &str,
        extra: &str,
    ) -> anyhow::Result<Option<Received>> {
        self.report(
            stack,
            messages::report(&self.udid, command_uuid, "Acknowledged", extra),
        )
        .await
    }
}
