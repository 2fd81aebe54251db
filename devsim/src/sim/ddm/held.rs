//! A declaration as the device holds it: what the server sent, whether it passed the schema,
//! and the state the device last computed for it (what its status report says).

use mdm_core::ddm::{check_declaration, Category, Reason};
use serde_json::{Map, Value as Json};

/// `valid` in a declaration's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// The device checked it and can apply it.
    Valid,
    /// It cannot be applied (schema, predicate, identity); its reasons say why.
    Invalid,
    /// Not looked at: a configuration no activation references.
    Unknown,
}

impl Validity {
    /// As the status report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Validity::Valid => "valid",
            Validity::Invalid => "invalid",
            Validity::Unknown => "unknown",
        }
    }
}

/// One declaration on the device.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldDeclaration {
    /// Its category, from the manifest that listed it.
    pub category: Category,
    /// `Identifier`.
    pub identifier: String,
    /// `Type`, as sent (empty when the server sent none).
    pub declaration_type: String,
    /// The `ServerToken` the manifest listed it with: the device fetches it again only when the
    /// manifest names another.
    pub server_token: String,
    /// `Payload`, as sent (empty when it was not an object).
    pub payload: Map<String, Json>,
    /// Whether it is in force.
    pub active: bool,
    /// Whether it can be applied.
    pub valid: Validity,
    /// Why it is not active and valid, in the status report's words.
    pub reasons: Vec<Reason>,
    /// Why it failed the schema or its identity checks when it arrived; it stays invalid.
    pub(super) refused: Option<String>,
    /// An asset's data, fetched from its `Reference` as the device (`Authentication` `MDM`).
    pub asset_data: Option<Vec<u8>>,
}

impl HeldDeclaration {
    /// Its entry in the status item `management.declarations`.
    pub fn status_entry(&self) -> Json {
        let mut entry = Map::new();
        entry.insert("identifier".into(), Json::String(self.identifier.clone()));
        entry.insert("active".into(), Json::Bool(self.active));
        entry.insert("valid".into(), Json::String(self.valid.as_str().into()));
        entry.insert(
            "server-token".into(),
            Json::String(self.server_token.clone()),
        );
        if !self.reasons.is_empty() {
            let reasons = self.reasons.iter().map(reason_json).collect();
            entry.insert("reasons".into(), Json::Array(reasons));
        }
        Json::Object(entry)
    }
}

/// A reason as devices write it: lower-case keys.
fn reason_json(reason: &Reason) -> Json {
    let mut out = Map::new();
    out.insert("code".into(), Json::String(reason.code.clone()));
    if let Some(description) = &reason.description {
        out.insert("description".into(), Json::String(description.clone()));
    }
    if let Some(details) = &reason.details {
        out.insert("details".into(), details.clone());
    }
    Json::Object(out)
}

impl HeldDeclaration {
    /// A declaration as fetched from `declaration/<category>/<identifier>`, listed in the
    /// manifest with `server_token`. It is refused (and stays invalid, with the text of why)
    /// when it fails Apple's schema ([`check_declaration`]), names another identifier than the
    /// one asked for, or has a `Type` of another category than the manifest listed it under.
    /// Its state is computed with the others ([`super::apply`]).
    pub(super) fn received(
        category: Category,
        identifier: &str,
        server_token: &str,
        body: Map<String, Json>,
    ) -> HeldDeclaration {
        let text = |key: &str| body.get(key).and_then(Json::as_str).unwrap_or_default();
        let declaration_type = text("Type").to_owned();
        let sent_identifier = text("Identifier");
        let refused = if sent_identifier != identifier {
            Some(format!(
                "asked for {identifier:?}, the server sent Identifier {sent_identifier:?}"
            ))
        } else if let Err(error) = check_declaration(&Json::Object(body.clone())) {
            Some(error.to_string())
        } else if Category::of(&declaration_type) != Some(category) {
            Some(format!(
                "Type {declaration_type} is not of the category {} the manifest listed it under",
                category.manifest_key()
            ))
        } else {
            None
        };
        let payload = match body.get("Payload") {
            Some(Json::Object(payload)) => payload.clone(),
            _ => Map::new(),
        };
        HeldDeclaration {
            category,
            identifier: identifier.to_owned(),
            declaration_type,
            server_token: server_token.to_owned(),
            payload,
            active: false,
            valid: Validity::Unknown,
            reasons: Vec::new(),
            refused,
            asset_data: None,
        }
    }

    /// For an asset the device fetches as itself (`Reference.DataURL` with `Authentication`
    /// `MDM`): its data, checked against the `Size` and `Hash-SHA-256` the declaration names. A
    /// fetch that fails, or data that does not match, makes the asset invalid, saying why.
    pub(super) async fn fetch_asset_data<L: super::DdmLink>(&mut self, link: &mut L) {
        if self.category != Category::Asset || self.refused.is_some() {
            return;
        }
        let reference = self.payload.get("Reference");
        let url = reference
            .and_then(|r| r.get("DataURL"))
            .and_then(Json::as_str);
        let by_mdm = self
            .payload
            .get("Authentication")
            .and_then(|a| a.get("Type"))
            .and_then(Json::as_str)
            == Some("MDM");
        let (Some(url), true) = (url, by_mdm) else {
            return;
        };
        let expected_size = reference.and_then(|r| r.get("Size")).and_then(Json::as_u64);
        let expected_hash = reference
            .and_then(|r| r.get("Hash-SHA-256"))
            .and_then(Json::as_str)
            .map(str::to_ascii_lowercase);
        match link.fetch_asset(url).await {
            Err(error) => self.refused = Some(format!("its data could not be fetched: {error}")),
            Ok(data) => {
                let hash = hex::encode(openssl::sha::sha256(&data));
                if expected_size.is_some_and(|size| size != data.len() as u64) {
                    self.refused = Some(format!(
                        "its data is {} bytes, not the {} named",
                        data.len(),
                        expected_size.unwrap_or(0)
                    ));
                } else if expected_hash.as_ref().is_some_and(|h| *h != hash) {
                    self.refused = Some("its data does not match Hash-SHA-256".into());
                } else {
                    self.asset_data = Some(data);
                }
            }
        }
    }
}
