//! Declarative Device Management (`/v1/declarations`, `/v1/declaration-sets`, and a device's
//! `/declarations` and `/status-items`). Every change answers the devices it told to sync.

use super::NO_BODY;
use crate::client::query::Pairs;
use crate::client::{Answer, Api, ApiError, Listing, Span};
use mdm_api::declarations::{
    AssetRequest, AssignmentRequest, Declaration, DeclarationChange, DeclarationRequest,
    DeclarationSet, DeclarationSetChange, DeclarationSetRequest, DeclarationState, StateQuery,
    StatusItems, Sync,
};
use mdm_api::Cursor;
use reqwest::Method;

/// Declarations.
impl Api {
    /// `PUT /v1/declarations/{identifier}`: stored (a new `ServerToken` when the content is
    /// new), and the devices holding it told to sync.
    pub async fn put_declaration(
        &self,
        identifier: &str,
        body: &DeclarationRequest,
    ) -> Result<Answer<DeclarationChange>, ApiError> {
        self.write(Method::PUT, &["v1", "declarations", identifier], Some(body))
            .await
    }

    /// `PUT /v1/declarations/{identifier}/asset`: an asset whose data the server keeps.
    pub async fn put_asset(
        &self,
        identifier: &str,
        body: &AssetRequest,
    ) -> Result<Answer<DeclarationChange>, ApiError> {
        self.write(
            Method::PUT,
            &["v1", "declarations", identifier, "asset"],
            Some(body),
        )
        .await
    }

    /// `GET /v1/declarations`: by identifier.
    pub async fn declarations(&self, span: Span) -> Result<Listing<Declaration>, ApiError> {
        self.list(&["v1", "declarations"], &Cursor::default(), span)
            .await
    }

    /// `GET /v1/declarations/{identifier}`, with the sets that hold it.
    pub async fn declaration(&self, identifier: &str) -> Result<Answer<Declaration>, ApiError> {
        self.get(&["v1", "declarations", identifier], &Pairs::new())
            .await
    }

    /// `DELETE /v1/declarations/{identifier}`: refused (409) while a set holds it.
    pub async fn delete_declaration(&self, identifier: &str) -> Result<(), ApiError> {
        self.delete(&["v1", "declarations", identifier]).await
    }

    /// `GET /v1/declarations/{identifier}/status`: the devices it is served to, by ID, each
    /// with what it reported.
    pub async fn declaration_status(
        &self,
        identifier: &str,
        query: &StateQuery,
        span: Span,
    ) -> Result<Listing<DeclarationState>, ApiError> {
        self.list(&["v1", "declarations", identifier, "status"], query, span)
            .await
    }
}

/// Declaration sets.
impl Api {
    /// `PUT /v1/declaration-sets/{name}`: made, or its declarations replaced; its devices told
    /// to sync when they changed.
    pub async fn put_declaration_set(
        &self,
        name: &str,
        body: &DeclarationSetRequest,
    ) -> Result<Answer<DeclarationSetChange>, ApiError> {
        self.write(Method::PUT, &["v1", "declaration-sets", name], Some(body))
            .await
    }

    /// `GET /v1/declaration-sets`: by name.
    pub async fn declaration_sets(&self, span: Span) -> Result<Listing<DeclarationSet>, ApiError> {
        self.list(&["v1", "declaration-sets"], &Cursor::default(), span)
            .await
    }

    /// `GET /v1/declaration-sets/{name}`.
    pub async fn declaration_set(&self, name: &str) -> Result<Answer<DeclarationSet>, ApiError> {
        self.get(&["v1", "declaration-sets", name], &Pairs::new())
            .await
    }

    /// `DELETE /v1/declaration-sets/{name}`: its devices told to sync (unlike other deletes,
    /// answered with a document).
    pub async fn delete_declaration_set(&self, name: &str) -> Result<Answer<Sync>, ApiError> {
        self.write(Method::DELETE, &["v1", "declaration-sets", name], NO_BODY)
            .await
    }

    /// `POST /v1/declaration-sets/{name}/devices`: assigned to some devices, taken back from
    /// others.
    pub async fn assign_declaration_set(
        &self,
        name: &str,
        body: &AssignmentRequest,
    ) -> Result<Answer<DeclarationSetChange>, ApiError> {
        self.write(
            Method::POST,
            &["v1", "declaration-sets", name, "devices"],
            Some(body),
        )
        .await
    }

    /// `GET /v1/declaration-sets/{name}/devices`: the enrollment IDs it is assigned to.
    pub async fn declaration_set_devices(
        &self,
        name: &str,
        span: Span,
    ) -> Result<Listing<String>, ApiError> {
        self.list(
            &["v1", "declaration-sets", name, "devices"],
            &Cursor::default(),
            span,
        )
        .await
    }

    /// `POST /v1/declaration-sets/{name}/sync`: every device it is assigned to told to sync
    /// again.
    pub async fn sync_declaration_set(&self, name: &str) -> Result<Answer<Sync>, ApiError> {
        self.write(
            Method::POST,
            &["v1", "declaration-sets", name, "sync"],
            NO_BODY,
        )
        .await
    }
}

/// One device's side.
impl Api {
    /// `GET /v1/devices/{id}/declarations`: the declarations served to it, by identifier, each
    /// with what it reported.
    pub async fn device_declarations(
        &self,
        id: &str,
        query: &StateQuery,
        span: Span,
    ) -> Result<Listing<DeclarationState>, ApiError> {
        self.list(&["v1", "devices", id, "declarations"], query, span)
            .await
    }

    /// `GET /v1/devices/{id}/status-items`: the latest value of each status item it reported.
    pub async fn device_status_items(&self, id: &str) -> Result<Answer<StatusItems>, ApiError> {
        self.get(&["v1", "devices", id, "status-items"], &Pairs::new())
            .await
    }
}
