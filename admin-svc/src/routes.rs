//! The REST API: one router, whose routes and the OpenAPI document served at
//! `GET /v1/openapi.json` come from the same annotated handlers, so the two cannot disagree.
//!
//! - [`devices`]: `/v1/devices`, their apps, history and re-enrollment approvals.
//! - [`commands`]: `/v1/commands`: queue, list, read, deliveries, cancel.
//! - [`push`]: `/v1/push`, `/v1/push-certificate`, `/v1/push-certificates`.
//! - [`enrollment`]: `/v1/enrollment-tokens`, `/v1/certificates`.
//! - [`admin_tokens`]: the API's own tokens, `/v1/admin-tokens`.
//! - [`audit`]: the audit log, `/v1/audit`.
//! - [`summary`]: the dashboard's counts, `/v1/summary`.
//! - [`diagnostics`]: each service's view of itself, `/v1/diagnostics` (`mdmctl doctor`).
//! - [`webhooks`]: `/v1/webhooks`, their deliveries and replay; [`events`]: `/v1/events`.
//! - [`blueprints`]: `/v1/blueprints` and their runs.
//! - [`identities`]: identity renewals, `/v1/identity-renewals`.
//! - [`declarations`], [`declaration_sets`]: Declarative Device Management, `/v1/declarations`,
//!   `/v1/declaration-sets`, and each device's declarations and status items.

pub mod admin_tokens;
pub mod audit;
pub mod blueprints;
pub mod commands;
pub mod declaration_sets;
pub mod declarations;
pub mod devices;
pub mod diagnostics;
pub mod enrollment;
pub mod events;
pub mod identities;
pub mod push;
pub mod summary;
pub mod webhooks;

use crate::auth::{self, Tokens};
use crate::backends::Backends;
use crate::conformance::{self, RequestSchemas};
use crate::console::{self, session::Sessions};
use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::metrics::Metrics;
use crate::store::AdminStore;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use mdm_api::problem::PROBLEM_JSON;
use mdm_api::Problem;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::{IntoResponses, Modify};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The services.
    pub backends: Backends,
    /// admin-svc's own database.
    pub store: AdminStore,
    /// Who may call: the console's sessions, and the tokens they (and bearer callers) use.
    pub sessions: Sessions,
    /// Seals webhook secrets (`secret_key`); without it webhooks cannot be registered.
    pub secrets: Option<service_kit::secrets::SecretBox>,
}

impl AppState {
    /// The admin tokens.
    pub fn tokens(&self) -> &Tokens {
        self.sessions.tokens()
    }
}

/// The failures every route may answer, as problem documents: listed on every operation so a
/// client (and a schema-driven fuzzer) can rely on the document.
#[allow(dead_code)] // A type for the OpenAPI document; never built.
#[derive(IntoResponses)]
pub enum Failures {
    /// The request does not match this document.
    #[response(
        status = 400,
        description = "Does not match the API's schema",
        content_type = "application/problem+json"
    )]
    BadRequest(Problem),
    /// No, unknown, expired or revoked token.
    #[response(
        status = 401,
        description = "A valid bearer token is required",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    /// The token lacks the scope.
    #[response(
        status = 403,
        description = "The token lacks the scope",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    /// The named object does not exist.
    #[response(
        status = 404,
        description = "No such object",
        content_type = "application/problem+json"
    )]
    NotFound(Problem),
    /// Conflicts with the current state.
    #[response(
        status = 409,
        description = "Conflicts with the current state",
        content_type = "application/problem+json"
    )]
    Conflict(Problem),
    /// The body is over the limit.
    #[response(
        status = 413,
        description = "The body is too large",
        content_type = "application/problem+json"
    )]
    TooLarge(Problem),
    /// The body is not JSON.
    #[response(
        status = 415,
        description = "The body must be application/json",
        content_type = "application/problem+json"
    )]
    UnsupportedMediaType(Problem),
    /// Matches the schema, but the values cannot be used (a time already past, a device not
    /// enrolled, a cursor of another list).
    #[response(
        status = 422,
        description = "The values cannot be used",
        content_type = "application/problem+json"
    )]
    Unprocessable(Problem),
    /// A fault inside the server.
    #[response(
        status = 500,
        description = "A fault inside the server",
        content_type = "application/problem+json"
    )]
    Internal(Problem),
    /// A service or database is unavailable: retry.
    #[response(
        status = 503,
        description = "Temporarily unavailable: retry",
        content_type = "application/problem+json"
    )]
    Unavailable(Problem),
}

/// Adds the bearer security scheme, and names the scopes each destructive request type needs
/// (`x-request-type-scopes`) for clients that build command forms from the document.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let scopes: serde_json::Map<String, serde_json::Value> =
            mdm_core::DESTRUCTIVE_REQUEST_TYPES
                .into_iter()
                .map(|request_type| {
                    let names = commands::scopes_needed(request_type)
                        .into_iter()
                        .map(|scope| serde_json::Value::from(scope.as_str()))
                        .collect();
                    (request_type.to_owned(), serde_json::Value::Array(names))
                })
                .collect();
        openapi
            .extensions
            .get_or_insert_with(Default::default)
            .insert("x-request-type-scopes".into(), scopes.into());
    }
}

/// Adds `AppleCommand`: every request type of Apple's schema in the Apple-keyed form `command`
/// takes, generated from the command catalogue (`mdm_core::catalogue`), for clients that build
/// or check commands from the document. `command` itself stays an open object: the server checks
/// it against the same catalogue, with messages that name the key.
struct AppleCommands;

impl Modify for AppleCommands {
    fn modify(&self, openapi: &mut OpenApi) {
        let schema = mdm_core::catalogue::catalogue().json_schema();
        match serde_json::from_value::<utoipa::openapi::Schema>(schema) {
            Ok(schema) => {
                openapi
                    .components
                    .get_or_insert_with(Default::default)
                    .schemas
                    .insert("AppleCommand".into(), schema.into());
            }
            // The catalogue ships with the binary and its schema is tested; this cannot happen
            // short of a utoipa change, and the rest of the document still serves.
            Err(error) => tracing::error!(%error, "the command catalogue is not an OpenAPI schema"),
        }
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "MDM server admin API",
        description = "Devices, commands, push, enrollment, admin tokens and the audit log. \
            Times are RFC 3339 in UTC; lists are pages (`items`, `next_cursor` to pass back as \
            `cursor`); failures are RFC 9457 problem documents.",
        license(name = "Apache-2.0")
    ),
    modifiers(&Security, &AppleCommands),
    // CommandSpec: the typed commands `command` accepts (it also takes Apple-keyed JSON and
    // plists, so the field itself stays an open object). DeviceSort, DeclarationStateFilter: query
    // parameters' types, which no answer's schema brings in.
    components(schemas(
        Problem,
        mdm_core::CommandSpec,
        mdm_api::devices::DeviceSort,
        mdm_api::declarations::DeclarationStateFilter
    )),
    tags(
        (name = "devices", description = "Enrolled devices, inventory and history"),
        (name = "commands", description = "Queue commands and follow them"),
        (name = "push", description = "Wake devices; the push certificate"),
        (name = "enrollment", description = "Enrollment tokens and issued certificates"),
        (name = "admin", description = "Admin tokens and the audit log"),
        (name = "declarations", description = "Declarative Device Management: declarations, sets, status"),
    )
)]
struct ApiDoc;

/// Every route of the API with its documentation.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(devices::list))
        .routes(routes!(devices::get))
        .routes(routes!(devices::commands))
        .routes(routes!(devices::apps))
        .routes(routes!(devices::approve_reenrollment))
        .routes(routes!(commands::enqueue, commands::list))
        .routes(routes!(commands::get))
        .routes(routes!(commands::deliveries))
        .routes(routes!(commands::cancel))
        .routes(routes!(push::push))
        .routes(routes!(push::get_certificate, push::upload_certificate))
        .routes(routes!(push::list_certificates))
        .routes(routes!(enrollment::create_token, enrollment::list_tokens))
        .routes(routes!(enrollment::get_token))
        .routes(routes!(enrollment::revoke_token))
        .routes(routes!(enrollment::get_certificate))
        .routes(routes!(enrollment::revoke_certificate))
        .routes(routes!(admin_tokens::create, admin_tokens::list))
        .routes(routes!(admin_tokens::get))
        .routes(routes!(admin_tokens::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(summary::get))
        .routes(routes!(diagnostics::get))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::replay))
        .routes(routes!(events::list))
        .routes(routes!(events::get))
        .routes(routes!(declarations::list))
        .routes(routes!(
            declarations::put,
            declarations::get,
            declarations::delete
        ))
        .routes(routes!(declarations::put_asset))
        .routes(routes!(declarations::status))
        .routes(routes!(declarations::device_declarations))
        .routes(routes!(declarations::status_items))
        .routes(routes!(declarations::status_history))
        .routes(routes!(declaration_sets::list))
        .routes(routes!(
            declaration_sets::put,
            declaration_sets::get,
            declaration_sets::delete
        ))
        .routes(routes!(declaration_sets::assign, declaration_sets::devices))
        .routes(routes!(declaration_sets::sync))
        .routes(routes!(blueprints::create, blueprints::list))
        .routes(routes!(
            blueprints::get,
            blueprints::update,
            blueprints::delete
        ))
        .routes(routes!(blueprints::runs))
        .routes(routes!(identities::list))
}

/// The OpenAPI document of the API, as `GET /v1/openapi.json` serves it.
pub fn document() -> OpenApi {
    let (_, mut openapi) = routes().split_for_parts();
    add_openapi_path(&mut openapi);
    openapi
}

/// The router of the whole API (and the console beside it) and its OpenAPI document. Fails only if the document's own
/// schemas do not compile (a bug a unit test catches).
pub fn api(
    state: AppState,
    max_body_bytes: usize,
    metrics: Metrics,
) -> Result<(Router, OpenApi), String> {
    let openapi = document();
    let json = serde_json::to_value(&openapi).map_err(|e| e.to_string())?;
    let schemas = RequestSchemas::new(&json)?;
    // Layers run outside in: the token first (a caller without one learns nothing about the
    // request's shape), then the operation's scopes and schemas, then the handler.
    let (router, _) = routes()
        .route_layer(middleware::from_fn_with_state(
            schemas,
            conformance::conform,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.sessions.clone(),
            auth::authenticate,
        ))
        .with_state(state.clone())
        .split_for_parts();
    let document = openapi.clone();
    let router = router
        .route(
            "/v1/openapi.json",
            get(move || {
                let document = document.clone();
                async move { axum::Json(document) }
            }),
        )
        .merge(crate::migration::routes(state.clone()))
        .merge(console::routes(state.sessions))
        .fallback(|| async { ApiError::NoRoute })
        .layer(middleware::from_fn(problems))
        .layer(axum::extract::DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::Extension(BodyLimit(max_body_bytes)))
        .layer(middleware::from_fn(no_store))
        .layer(middleware::from_fn_with_state(
            metrics,
            crate::metrics::observe,
        ));
    Ok((router, openapi))
}

/// Documents `GET /v1/openapi.json` itself (served without a token).
fn add_openapi_path(openapi: &mut OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, ResponseBuilder};
    let operation = OperationBuilder::new()
        .operation_id(Some("openapi"))
        .summary(Some("This document"))
        .tag("admin")
        .response(
            "200",
            ResponseBuilder::new()
                .description("The OpenAPI document of this API")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().build()))
                        .build(),
                )
                .build(),
        )
        .build();
    openapi.paths.paths.insert(
        "/v1/openapi.json".into(),
        PathItem::new(HttpMethod::Get, operation),
    );
}

/// axum answers a wrong method itself, in plain text: the same failure as a problem document,
/// keeping its `Allow` header.
async fn problems(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED
        || is_problem(response.headers().get(header::CONTENT_TYPE))
    {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut answer = ApiError::MethodNotAllowed.into_response();
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    answer
}

fn is_problem(content_type: Option<&HeaderValue>) -> bool {
    content_type.is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

/// Answers name devices and hold command results: no shared cache may keep them.
async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 201 answer with the new object's `Location`.
pub fn created<T: serde::Serialize>(location: String, body: T) -> Response {
    let mut response = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path segment, percent-encoded for a `Location` header.
pub fn segment(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    /// `AppleCommands` cannot fail quietly: the catalogue's schema reads as an OpenAPI schema.
    #[test]
    fn the_command_catalogue_is_an_openapi_schema() {
        let schema = mdm_core::catalogue::catalogue().json_schema();
        serde_json::from_value::<utoipa::openapi::Schema>(schema).expect("an OpenAPI schema");
    }
}
