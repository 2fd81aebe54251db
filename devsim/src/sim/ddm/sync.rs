//! The steps of a sync: `tokens` (unless the command carried them), and when the
//! `DeclarationsToken` is not the one last synced, `declaration-items` and each declaration the
//! device does not hold at the listed `ServerToken`; then the states, and a status report when
//! something changed. The device's held declarations change only once every fetch succeeded.

use super::apply::apply;
use super::checkin::checkin_body;
use super::documents::{declaration_endpoint, parse_declaration, parse_manifest, SyncTokens};
use super::held::HeldDeclaration;
use super::report::{current_items, due};
use super::status_items::device_items;
use super::DdmState;
use crate::sim::device::SimError;
use crate::sim::responder::DeviceFacts;
use plist::Dictionary;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::future::Future;

/// The longest answer a device reads to one request.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The most a device reads in one sync, all answers together.
pub const MAX_SYNC_BYTES: usize = 16 * 1024 * 1024;

/// Where a device's `DeclarativeManagement` check-ins go: the server (a PUT to the check-in
/// path, signed like every check-in) or a fake in tests.
pub trait DdmLink {
    /// Sends `body`, the check-in asking for `endpoint`, and returns the answer's body. An
    /// answer that is not a success is an error ([`SimError::DdmStatus`]).
    fn exchange(
        &mut self,
        endpoint: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, SimError>> + Send;

    /// Fetches the data of an asset whose `Authentication` is `MDM` at `url`, as the device.
    /// A link that cannot (a fake without assets) answers an error: the asset is then invalid.
    fn fetch_asset(&mut self, url: &str) -> impl Future<Output = Result<Vec<u8>, SimError>> + Send {
        let url = url.to_owned();
        async move {
            Err(SimError::DdmAnswer {
                endpoint: url,
                reason: "this link fetches no assets".into(),
            })
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq)]
pub struct DdmSync {
    /// The `DeclarationsToken` the server named.
    pub declarations_token: String,
    /// The device already held it: no manifest nor declaration was fetched.
    pub up_to_date: bool,
    /// The identifiers fetched (new, or at a new `ServerToken`).
    pub fetched: Vec<String>,
    /// The identifiers removed (no longer in the manifest).
    pub removed: Vec<String>,
    /// The status report delivered, if one was due.
    pub report: Option<Json>,
}

impl DdmState {
    /// Syncs over `link` as the channel with `ids` on a device with `facts`, starting from the
    /// tokens a `DeclarativeManagement` command carried, if any.
    pub async fn sync<L: DdmLink>(
        &mut self,
        facts: &DeviceFacts,
        ids: &Dictionary,
        link: &mut L,
        tokens_from_command: Option<SyncTokens>,
    ) -> Result<DdmSync, SimError> {
        let mut exchange = Exchange {
            link,
            ids,
            left: MAX_SYNC_BYTES,
        };
        let tokens = match tokens_from_command {
            Some(tokens) => tokens,
            None => {
                let answer = exchange.ask("tokens", None).await?;
                SyncTokens::parse(&answer).map_err(|reason| SimError::DdmAnswer {
                    endpoint: "tokens".into(),
                    reason,
                })?
            }
        };
        let mut outcome = DdmSync {
            declarations_token: tokens.declarations_token.clone(),
            up_to_date: self.declarations_token.as_ref() == Some(&tokens.declarations_token),
            fetched: Vec::new(),
            removed: Vec::new(),
            report: None,
        };
        if !outcome.up_to_date {
            self.fetch(&mut exchange, &tokens, &mut outcome).await?;
        }
        apply(&mut self.held, &device_items(facts));
        let current = current_items(facts, &self.held);
        if let Some(report) = due(&current, &self.reported, self.full_report_sent) {
            let data = report.to_string().into_bytes();
            exchange.ask("status", Some(&data)).await?;
            self.reported = current;
            self.full_report_sent = true;
            outcome.report = Some(report);
        }
        Ok(outcome)
    }

    /// The manifest, and every declaration not held at its listed `ServerToken`.
    async fn fetch<L: DdmLink>(
        &mut self,
        exchange: &mut Exchange<'_, L>,
        tokens: &SyncTokens,
        outcome: &mut DdmSync,
    ) -> Result<(), SimError> {
        let manifest = parse_manifest(&exchange.ask("declaration-items", None).await?)?;
        let mut next = BTreeMap::new();
        // Bounded: the manifest holds at most MAX_ITEMS entries.
        for item in &manifest.items {
            let kept = self
                .held
                .get(&item.identifier)
                .filter(|h| h.category == item.category && h.server_token == item.server_token)
                .cloned();
            let declaration = match kept {
                Some(declaration) => declaration,
                None => {
                    let endpoint = declaration_endpoint(item.category, &item.identifier);
                    let body = exchange.ask(&endpoint, None).await?;
                    outcome.fetched.push(item.identifier.clone());
                    let mut declaration = HeldDeclaration::received(
                        item.category,
                        &item.identifier,
                        &item.server_token,
                        parse_declaration(&endpoint, &body)?,
                    );
                    declaration.fetch_asset_data(exchange.link).await;
                    declaration
                }
            };
            next.insert(item.identifier.clone(), declaration);
        }
        outcome.removed = self
            .held
            .keys()
            .filter(|identifier| !next.contains_key(*identifier))
            .cloned()
            .collect();
        self.held = next;
        self.declarations_token = Some(
            manifest
                .declarations_token
                .unwrap_or_else(|| tokens.declarations_token.clone()),
        );
        Ok(())
    }
}

/// The requests of one sync, each answer bounded by [`MAX_ANSWER_BYTES`] and all of them by
/// [`MAX_SYNC_BYTES`].
struct Exchange<'a, L> {
    link: &'a mut L,
    ids: &'a Dictionary,
    left: usize,
}

impl<L: DdmLink> Exchange<'_, L> {
    async fn ask(&mut self, endpoint: &str, data: Option<&[u8]>) -> Result<Vec<u8>, SimError> {
        let body = checkin_body(self.ids, endpoint, data);
        let answer = self.link.exchange(endpoint, body).await?;
        let too_long = |reason: String| SimError::DdmAnswer {
            endpoint: endpoint.to_owned(),
            reason,
        };
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(too_long(format!("longer than {MAX_ANSWER_BYTES} bytes")));
        }
        self.left = self.left.checked_sub(answer.len()).ok_or_else(|| {
            too_long(format!(
                "the sync's answers together pass {MAX_SYNC_BYTES} bytes"
            ))
        })?;
        Ok(answer)
    }
}
