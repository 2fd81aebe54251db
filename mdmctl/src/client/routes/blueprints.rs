//! Blueprints and their runs (`/v1/blueprints`), and identity renewals
//! (`/v1/identity-renewals`): the dispatcher's work on devices.

use crate::client::query::Pairs;
use crate::client::{Answer, Api, ApiError, Listing, Span};
use mdm_api::blueprints::{Blueprint, BlueprintPatch, BlueprintRequest, BlueprintRun, RunQuery};
use mdm_api::identities::{IdentityRenewal, RenewalQuery};
use reqwest::Method;

/// Blueprints.
impl Api {
    /// `POST /v1/blueprints`.
    pub async fn create_blueprint(
        &self,
        body: &BlueprintRequest,
    ) -> Result<Answer<Blueprint>, ApiError> {
        self.write(Method::POST, &["v1", "blueprints"], Some(body))
            .await
    }

    /// `GET /v1/blueprints`: every blueprint, by name (one page).
    pub async fn blueprints(&self) -> Result<Listing<Blueprint>, ApiError> {
        self.whole(&["v1", "blueprints"]).await
    }

    /// `GET /v1/blueprints/{id}`.
    pub async fn blueprint(&self, id: &str) -> Result<Answer<Blueprint>, ApiError> {
        self.get(&["v1", "blueprints", id], &Pairs::new()).await
    }

    /// `PATCH /v1/blueprints/{id}`: enabled or disabled for devices enrolling from now on.
    pub async fn set_blueprint_enabled(
        &self,
        id: &str,
        enabled: bool,
    ) -> Result<Answer<Blueprint>, ApiError> {
        let body = BlueprintPatch { enabled };
        self.write(Method::PATCH, &["v1", "blueprints", id], Some(&body))
            .await
    }

    /// `DELETE /v1/blueprints/{id}`: its runs in progress stop.
    pub async fn delete_blueprint(&self, id: &str) -> Result<(), ApiError> {
        self.delete(&["v1", "blueprints", id]).await
    }

    /// `GET /v1/blueprints/{id}/runs`: the latest, newest first. The server answers one page
    /// of at most 1000 (`limit`), without a cursor.
    pub async fn blueprint_runs(
        &self,
        id: &str,
        query: &RunQuery,
        span: Span,
    ) -> Result<Listing<BlueprintRun>, ApiError> {
        self.list(&["v1", "blueprints", id, "runs"], query, span)
            .await
    }

    /// `GET /v1/identity-renewals`: the latest, newest first, one page like runs.
    pub async fn identity_renewals(
        &self,
        query: &RenewalQuery,
        span: Span,
    ) -> Result<Listing<IdentityRenewal>, ApiError> {
        self.list(&["v1", "identity-renewals"], query, span).await
    }
}
