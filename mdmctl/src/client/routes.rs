//! One method per route of the admin API, each with the route's `mdm-api` request and answer
//! types. Lists answer a [`Listing`] read as far as the [`Span`] asks. Webhooks and events
//! (`routes/webhooks.rs`), blueprints (`routes/blueprints.rs`) and Declarative Device
//! Management (`routes/declarations.rs`) have files of their own.

mod blueprints;
mod declarations;
mod webhooks;

use super::answer::{Answer, Listing};
use super::paging::Span;
use super::query::Pairs;
use super::{Api, ApiError};
use mdm_api::admin_tokens::{AdminToken, AdminTokenRequest, CreatedAdminToken};
use mdm_api::audit::{AuditEntry, AuditQuery};
use mdm_api::commands::{Command, CommandQuery, DeliveryQuery, EnqueueRequest, Enqueued};
use mdm_api::devices::{App, Delivery, Device, DeviceQuery};
use mdm_api::diagnostics::Diagnostics;
use mdm_api::enrollment::{
    CreatedEnrollmentToken, EnrollmentToken, EnrollmentTokenQuery, EnrollmentTokenRequest,
};
use mdm_api::push::{PushCertificate, PushCertificateUpload, PushRequest, PushResults};
use mdm_api::Cursor;
use reqwest::Method;

/// No request body: a state change named by its path (`/cancel`, `/revoke`).
const NO_BODY: Option<&()> = None;

/// Devices.
impl Api {
    /// `GET /v1/devices`: enrollments in enrollment-ID order, filtered by the server.
    pub async fn devices(
        &self,
        query: &DeviceQuery,
        span: Span,
    ) -> Result<Listing<Device>, ApiError> {
        self.list(&["v1", "devices"], query, span).await
    }

    /// `GET /v1/devices/{id}`, with its push state.
    pub async fn device(&self, id: &str) -> Result<Answer<Device>, ApiError> {
        self.get(&["v1", "devices", id], &Pairs::new()).await
    }

    /// `GET /v1/devices/{id}/commands`: its deliveries, newest first.
    pub async fn device_commands(
        &self,
        id: &str,
        span: Span,
    ) -> Result<Listing<Delivery>, ApiError> {
        self.list(&["v1", "devices", id, "commands"], &Cursor::default(), span)
            .await
    }

    /// `GET /v1/devices/{id}/apps`: its apps as its last InstalledApplicationList listed them.
    pub async fn device_apps(&self, id: &str, span: Span) -> Result<Listing<App>, ApiError> {
        self.list(&["v1", "devices", id, "apps"], &Cursor::default(), span)
            .await
    }
}

/// Commands.
impl Api {
    /// `POST /v1/commands`.
    pub async fn enqueue(&self, body: &EnqueueRequest) -> Result<Answer<Enqueued>, ApiError> {
        self.write(Method::POST, &["v1", "commands"], Some(body))
            .await
    }

    /// `GET /v1/commands`: newest first (without delivery counts).
    pub async fn commands(
        &self,
        query: &CommandQuery,
        span: Span,
    ) -> Result<Listing<Command>, ApiError> {
        self.list(&["v1", "commands"], query, span).await
    }

    /// `GET /v1/commands/{uuid}`, with its deliveries counted per status.
    pub async fn command(&self, uuid: &str) -> Result<Answer<Command>, ApiError> {
        self.get(&["v1", "commands", uuid], &Pairs::new()).await
    }

    /// `GET /v1/commands/{uuid}/deliveries`, in enrollment-ID order.
    pub async fn deliveries(
        &self,
        uuid: &str,
        query: &DeliveryQuery,
        span: Span,
    ) -> Result<Listing<Delivery>, ApiError> {
        self.list(&["v1", "commands", uuid, "deliveries"], query, span)
            .await
    }

    /// `POST /v1/commands/{uuid}/cancel`: the command, cancelled.
    pub async fn cancel(&self, uuid: &str) -> Result<Answer<Command>, ApiError> {
        self.write(Method::POST, &["v1", "commands", uuid, "cancel"], NO_BODY)
            .await
    }
}

/// Push.
impl Api {
    /// `POST /v1/push`: one result per device, in request order.
    pub async fn push(&self, body: &PushRequest) -> Result<Answer<PushResults>, ApiError> {
        self.write(Method::POST, &["v1", "push"], Some(body)).await
    }

    /// `GET /v1/push-certificate`.
    pub async fn push_certificate(&self) -> Result<Answer<PushCertificate>, ApiError> {
        self.get(&["v1", "push-certificate"], &Pairs::new()).await
    }

    /// `GET /v1/push-certificates`: every topic's certificate (one page).
    pub async fn push_certificates(&self) -> Result<Listing<PushCertificate>, ApiError> {
        self.whole(&["v1", "push-certificates"]).await
    }

    /// `GET /v1/diagnostics`: each service's view of itself (`mdmctl doctor`).
    pub async fn diagnostics(&self) -> Result<Answer<Diagnostics>, ApiError> {
        self.get(&["v1", "diagnostics"], &Pairs::new()).await
    }

    /// `PUT /v1/push-certificate`.
    pub async fn upload_push_certificate(
        &self,
        body: &PushCertificateUpload,
    ) -> Result<Answer<PushCertificate>, ApiError> {
        self.write(Method::PUT, &["v1", "push-certificate"], Some(body))
            .await
    }
}

/// Enrollment tokens.
impl Api {
    /// `POST /v1/enrollment-tokens`: the token with its secret and URLs, shown this once.
    pub async fn create_enrollment_token(
        &self,
        body: &EnrollmentTokenRequest,
    ) -> Result<Answer<CreatedEnrollmentToken>, ApiError> {
        self.write(Method::POST, &["v1", "enrollment-tokens"], Some(body))
            .await
    }

    /// `GET /v1/enrollment-tokens`: newest first.
    pub async fn enrollment_tokens(
        &self,
        query: &EnrollmentTokenQuery,
        span: Span,
    ) -> Result<Listing<EnrollmentToken>, ApiError> {
        self.list(&["v1", "enrollment-tokens"], query, span).await
    }

    /// `POST /v1/enrollment-tokens/{id}/revoke`.
    pub async fn revoke_enrollment_token(
        &self,
        id: &str,
    ) -> Result<Answer<EnrollmentToken>, ApiError> {
        self.write(
            Method::POST,
            &["v1", "enrollment-tokens", id, "revoke"],
            NO_BODY,
        )
        .await
    }
}

/// Admin tokens and the audit log.
impl Api {
    /// `POST /v1/admin-tokens`: the token with its secret, shown this once.
    pub async fn create_admin_token(
        &self,
        body: &AdminTokenRequest,
    ) -> Result<Answer<CreatedAdminToken>, ApiError> {
        self.write(Method::POST, &["v1", "admin-tokens"], Some(body))
            .await
    }

    /// `GET /v1/admin-tokens`: the configuration's first, then the others newest first.
    pub async fn admin_tokens(&self, span: Span) -> Result<Listing<AdminToken>, ApiError> {
        self.list(&["v1", "admin-tokens"], &Cursor::default(), span)
            .await
    }

    /// `POST /v1/admin-tokens/{id}/revoke`.
    pub async fn revoke_admin_token(&self, id: &str) -> Result<Answer<AdminToken>, ApiError> {
        self.write(Method::POST, &["v1", "admin-tokens", id, "revoke"], NO_BODY)
            .await
    }

    /// `GET /v1/audit`: newest first.
    pub async fn audit(
        &self,
        query: &AuditQuery,
        span: Span,
    ) -> Result<Listing<AuditEntry>, ApiError> {
        self.list(&["v1", "audit"], query, span).await
    }
}
