//! A DDM server in memory: it answers each check-in from its declarations with the documents
//! `mdm_core::ddm` makes, reads every check-in and status report with the server's parsers (so
//! a body the server could not read fails the test), and records what it was asked.

use crate::sim::ddm::{DdmLink, DdmState, DdmSync, SyncTokens};
use crate::sim::device::SimError;
use crate::sim::responder::DeviceFacts;
use mdm_core::ddm::declaration::server_token;
use mdm_core::ddm::{
    declaration_items, declarations_token, parse_declarative_checkin, parse_status_report, tokens,
    Category, Declaration, Endpoint, StatusReport,
};
use plist::{Dictionary, Value};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::future::Future;

pub const UDID: &str = "SIM-UDID-0001";

#[derive(Default)]
pub struct FakeServer {
    pub declarations: Vec<Declaration>,
    /// Answers given instead of the documents, by endpoint.
    pub overrides: BTreeMap<String, Result<Vec<u8>, u16>>,
    /// Every endpoint asked for, in order.
    pub asked: Vec<String>,
    /// Every status report received, parsed.
    pub reports: Vec<StatusReport>,
}

impl FakeServer {
    pub fn with(declarations: Vec<Declaration>) -> FakeServer {
        FakeServer {
            declarations,
            ..FakeServer::default()
        }
    }

    pub fn tokens(&self) -> SyncTokens {
        SyncTokens {
            declarations_token: declarations_token(&self.declarations),
            timestamp: Some("2026-01-01T00:00:00Z".into()),
        }
    }

    fn answer(&mut self, endpoint: &str, body: &[u8]) -> Result<Vec<u8>, SimError> {
        let checkin = parse_declarative_checkin(body).expect("a check-in the server reads");
        assert_eq!(checkin.ids.udid.as_deref(), Some(UDID));
        assert_eq!(
            Endpoint::parse(endpoint).expect("an endpoint"),
            checkin.endpoint
        );
        self.asked.push(endpoint.to_owned());
        if let Some(answer) = self.overrides.get(endpoint) {
            return answer.clone().map_err(|status| SimError::DdmStatus {
                endpoint: endpoint.to_owned(),
                status,
            });
        }
        let json = match checkin.endpoint {
            Endpoint::Tokens => tokens(
                &declarations_token(&self.declarations),
                "2026-01-01T00:00:00Z",
            ),
            Endpoint::DeclarationItems => declaration_items(&self.declarations),
            Endpoint::Declaration {
                category,
                identifier,
            } => self
                .declarations
                .iter()
                .find(|d| {
                    d.identifier == identifier
                        && Category::of(&d.declaration_type) == Some(category)
                })
                .map(Declaration::body)
                .ok_or(SimError::DdmStatus {
                    endpoint: endpoint.to_owned(),
                    status: 404,
                })?,
            Endpoint::Status => {
                let data = checkin.data.expect("a status check-in carries its report");
                self.reports
                    .push(parse_status_report(&data).expect("a report the server reads"));
                return Ok(Vec::new());
            }
        };
        Ok(json.to_string().into_bytes())
    }
}

impl DdmLink for FakeServer {
    fn exchange(
        &mut self,
        endpoint: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, SimError>> + Send {
        std::future::ready(self.answer(endpoint, &body))
    }
}

/// A declaration as the server would serve it, valid or not (its token computed the server's
/// way either way).
pub fn declaration(declaration_type: &str, identifier: &str, payload: Json) -> Declaration {
    let Json::Object(payload) = payload else {
        panic!("a payload is an object")
    };
    Declaration {
        declaration_type: declaration_type.into(),
        identifier: identifier.into(),
        server_token: server_token(declaration_type, identifier, &payload),
        payload,
    }
}

pub fn activation(
    identifier: &str,
    configurations: &[&str],
    predicate: Option<&str>,
) -> Declaration {
    let mut payload = Map::new();
    payload.insert("StandardConfigurations".into(), configurations.into());
    if let Some(predicate) = predicate {
        payload.insert("Predicate".into(), predicate.into());
    }
    declaration(
        "com.apple.activation.simple",
        identifier,
        Json::Object(payload),
    )
}

pub fn passcode(identifier: &str, minimum_length: Json) -> Declaration {
    declaration(
        "com.apple.configuration.passcode.settings",
        identifier,
        serde_json::json!({"MinimumLength": minimum_length}),
    )
}

pub fn ids() -> Dictionary {
    Dictionary::from_iter([("UDID".to_owned(), Value::String(UDID.into()))])
}

pub fn iphone() -> DeviceFacts {
    DeviceFacts::iphone(UDID, 1)
}

/// One sync of `state` on an iPhone against `server`.
pub async fn sync(
    state: &mut DdmState,
    server: &mut FakeServer,
    from_command: Option<SyncTokens>,
) -> Result<DdmSync, SimError> {
    state.sync(&iphone(), &ids(), server, from_command).await
}

/// `(identifier, active, valid)` of each declaration held, by category then identifier.
pub fn states(state: &DdmState) -> Vec<(String, bool, &'static str)> {
    state
        .declarations()
        .into_iter()
        .map(|d| (d.identifier, d.active, d.valid.as_str()))
        .collect()
}
