//! Webhooks, their deliveries, and the events they are sent (`/v1/webhooks`, `/v1/events`).

use super::NO_BODY;
use crate::client::query::Pairs;
use crate::client::{Answer, Api, ApiError, Listing, Span};
use mdm_api::webhooks::{
    CreatedWebhook, DeliveryQuery, Event, EventQuery, ReplayRequest, Replayed, Webhook,
    WebhookDelivery, WebhookPatch, WebhookRequest,
};
use reqwest::Method;

/// Webhooks.
impl Api {
    /// `POST /v1/webhooks`: the webhook with its secret, shown this once.
    pub async fn create_webhook(
        &self,
        body: &WebhookRequest,
    ) -> Result<Answer<CreatedWebhook>, ApiError> {
        self.write(Method::POST, &["v1", "webhooks"], Some(body))
            .await
    }

    /// `GET /v1/webhooks`: every webhook (one page).
    pub async fn webhooks(&self) -> Result<Listing<Webhook>, ApiError> {
        self.whole(&["v1", "webhooks"]).await
    }

    /// `GET /v1/webhooks/{id}`, with how far behind it is.
    pub async fn webhook(&self, id: &str) -> Result<Answer<Webhook>, ApiError> {
        self.get(&["v1", "webhooks", id], &Pairs::new()).await
    }

    /// `PATCH /v1/webhooks/{id}`: the webhook, changed.
    pub async fn update_webhook(
        &self,
        id: &str,
        body: &WebhookPatch,
    ) -> Result<Answer<Webhook>, ApiError> {
        self.write(Method::PATCH, &["v1", "webhooks", id], Some(body))
            .await
    }

    /// `POST /v1/webhooks/{id}/secret`: the webhook with its new secret, shown this once.
    pub async fn rotate_webhook_secret(
        &self,
        id: &str,
    ) -> Result<Answer<CreatedWebhook>, ApiError> {
        self.write(Method::POST, &["v1", "webhooks", id, "secret"], NO_BODY)
            .await
    }

    /// `DELETE /v1/webhooks/{id}`, its deliveries with it.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), ApiError> {
        self.delete(&["v1", "webhooks", id]).await
    }

    /// `GET /v1/webhooks/{id}/deliveries`: newest first.
    pub async fn webhook_deliveries(
        &self,
        id: &str,
        query: &DeliveryQuery,
        span: Span,
    ) -> Result<Listing<WebhookDelivery>, ApiError> {
        self.list(&["v1", "webhooks", id, "deliveries"], query, span)
            .await
    }

    /// `POST /v1/webhooks/{id}/replay`: how many dead deliveries were put back in line.
    pub async fn replay_webhook(
        &self,
        id: &str,
        body: &ReplayRequest,
    ) -> Result<Answer<Replayed>, ApiError> {
        self.write(Method::POST, &["v1", "webhooks", id, "replay"], Some(body))
            .await
    }
}

/// Events.
impl Api {
    /// `GET /v1/events`: oldest first.
    pub async fn events(&self, query: &EventQuery, span: Span) -> Result<Listing<Event>, ApiError> {
        self.list(&["v1", "events"], query, span).await
    }

    /// `GET /v1/events/{id}`.
    pub async fn event(&self, id: &str) -> Result<Answer<Event>, ApiError> {
        self.get(&["v1", "events", id], &Pairs::new()).await
    }
}
