//! Every request is held to the OpenAPI document before a handler sees it: the caller must hold
//! the scopes its security requirement names, and its path and query parameters and its JSON
//! body are validated against the schemas the document publishes, so the server refuses exactly
//! what the document forbids, by construction.
//!
//! A request that does not match the document is a 400 (`malformed_request`); one that matches
//! it but whose values cannot be used (a time already past, a device that is not enrolled, a
//! cursor from elsewhere) is the handler's 422 (`invalid_request`). Validation messages never
//! quote the offending value: a body may hold a secret.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{is_json, BodyLimit};
use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::Method;
use jsonschema::Validator;
use mdm_api::Scope;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The validators of every operation, by method and route pattern.
#[derive(Clone)]
pub struct RequestSchemas {
    operations: Arc<HashMap<(Method, String), Operation>>,
}

impl std::fmt::Debug for RequestSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSchemas")
            .field("operations", &self.operations.len())
            .finish()
    }
}

struct Operation {
    /// The scopes its security requirement names: the caller needs all of them.
    scopes: Vec<Scope>,
    parameters: Vec<Parameter>,
    /// The body's schema, and whether a body is required.
    body: Option<(Validator, bool)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Location {
    Path,
    Query,
}

/// What JSON type a parameter's text stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Integer,
    Boolean,
}

struct Parameter {
    name: String,
    location: Location,
    required: bool,
    kind: Kind,
    schema: Validator,
}

impl RequestSchemas {
    /// Compiles the schemas of `document` (an OpenAPI 3.1 document as JSON).
    pub fn new(document: &Value) -> Result<RequestSchemas, String> {
        let components = document.get("components").cloned().unwrap_or(json!({}));
        let compile = |schema: &Value| -> Result<Validator, String> {
            // The schema inside a root that carries the components, so `#/components/...`
            // references resolve as they do in the document.
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": components,
                "allOf": [schema],
            });
            jsonschema::options()
                .should_validate_formats(true)
                .build(&root)
                .map_err(|e| e.to_string())
        };
        let mut operations = HashMap::new();
        let paths = document["paths"]
            .as_object()
            .ok_or("the document has no paths")?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, operation) in item {
                let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("{path}: method {method}"))?;
                if operation.get("security").is_none() {
                    // Served without a token (the document itself), outside this middleware.
                    continue;
                }
                let scopes = required_scopes(operation)
                    .map_err(|why| format!("{} {path}: {why}", method.as_str()))?;
                let mut parameters = Vec::new();
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let name = parameter["name"]
                        .as_str()
                        .ok_or("a parameter without a name")?;
                    let location = match parameter["in"].as_str() {
                        Some("path") => Location::Path,
                        Some("query") => Location::Query,
                        other => return Err(format!("{path}: parameter {name} in {other:?}")),
                    };
                    let schema = &parameter["schema"];
                    parameters.push(Parameter {
                        name: name.to_owned(),
                        location,
                        required: parameter["required"].as_bool() == Some(true),
                        kind: kind_of(schema, &components),
                        schema: compile(schema)?,
                    });
                }
                let body = match operation.get("requestBody") {
                    None => None,
                    Some(body) => {
                        let schema = &body["content"]["application/json"]["schema"];
                        Some((compile(schema)?, body["required"].as_bool() != Some(false)))
                    }
                };
                operations.insert(
                    (method, path.clone()),
                    Operation {
                        scopes,
                        parameters,
                        body,
                    },
                );
            }
        }
        Ok(RequestSchemas {
            operations: Arc::new(operations),
        })
    }
}

/// The scopes of an operation's `bearer` requirement (OpenAPI 3.1 lets a requirement of a
/// non-OAuth scheme list the roles it needs). An operation without one is a bug: refused here
/// rather than served to any token.
fn required_scopes(operation: &Value) -> Result<Vec<Scope>, String> {
    let names = operation["security"][0]["bearer"]
        .as_array()
        .ok_or("no bearer security requirement")?;
    let scopes: Vec<Scope> = names
        .iter()
        .map(|name| {
            name.as_str()
                .and_then(Scope::from_name)
                .ok_or_else(|| format!("unknown scope {name}"))
        })
        .collect::<Result<_, _>>()?;
    if scopes.is_empty() {
        return Err("the bearer requirement names no scope".into());
    }
    Ok(scopes)
}

/// The JSON type of a parameter schema (through one `$ref`).
fn kind_of(schema: &Value, components: &Value) -> Kind {
    let resolved = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/"))
        .and_then(|r| components.pointer(&format!("/{r}")))
        .unwrap_or(schema);
    let named = |t: &str| match &resolved["type"] {
        Value::String(s) => s == t,
        Value::Array(types) => types.iter().any(|v| v == t),
        _ => false,
    };
    if named("integer") {
        Kind::Integer
    } else if named("boolean") {
        Kind::Boolean
    } else {
        Kind::Text
    }
}

/// The middleware: refuses a request that does not match its operation in the document.
pub async fn conform(
    State(schemas): State<RequestSchemas>,
    request: Request,
    next: Next,
) -> Response {
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let Some(operation) = schemas
        .operations
        .get(&(request.method().clone(), path.clone()))
    else {
        if schemas.operations.keys().any(|(_, known)| *known == path) {
            // Another method of a known path: the router answers 405.
            return next.run(request).await;
        }
        // Fail closed: a route without its operation in the document would skip the scope check.
        return ApiError::Internal("a route is missing from the OpenAPI document".into())
            .into_response();
    };
    let allowed = match request.extensions().get::<Caller>() {
        None => Err(ApiError::Unauthorized),
        Some(caller) => operation.scopes.iter().try_for_each(|s| caller.require(*s)),
    };
    if let Err(refusal) = allowed {
        return refusal.into_response();
    }
    match check(operation, request).await {
        Ok(request) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

async fn check(operation: &Operation, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    let path_values = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map_err(|_| ApiError::Malformed("a path parameter is not valid UTF-8".into()))?;
    let path_values: HashMap<&str, &str> = path_values.iter().collect();
    let query: Vec<(String, String)> = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
        .map_err(|_| ApiError::Malformed("the query string is not form-encoded".into()))?;
    for (name, _) in &query {
        let declared = operation
            .parameters
            .iter()
            .any(|p| p.location == Location::Query && p.name == *name);
        if !declared {
            return Err(ApiError::Malformed(format!(
                "unknown query parameter {:?}",
                mdm_proto::bounded(name, 64)
            )));
        }
    }
    for parameter in &operation.parameters {
        let values: Vec<&str> = match parameter.location {
            Location::Path => path_values
                .get(parameter.name.as_str())
                .copied()
                .into_iter()
                .collect(),
            Location::Query => query
                .iter()
                .filter(|(name, _)| *name == parameter.name)
                .map(|(_, value)| value.as_str())
                .collect(),
        };
        let value = match values.as_slice() {
            [] if parameter.required => {
                return Err(ApiError::Malformed(format!(
                    "{} is required",
                    parameter.name
                )))
            }
            [] => continue,
            [one] => *one,
            _ => {
                return Err(ApiError::Malformed(format!(
                    "{} is given more than once",
                    parameter.name
                )))
            }
        };
        let typed = typed(parameter, value)?;
        let refusal = parameter
            .schema
            .iter_errors(&typed)
            .next()
            .map(|error| mdm_proto::bounded(&error.masked().to_string(), 200).into_owned());
        if let Some(refusal) = refusal {
            return Err(ApiError::Malformed(format!(
                "{}: {refusal}",
                parameter.name
            )));
        }
    }
    let Some((schema, required)) = &operation.body else {
        return Ok(Request::from_parts(parts, body));
    };
    if parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| !is_json(v))
    {
        return Err(ApiError::UnsupportedMediaType);
    }
    let limit = parts
        .extensions
        .get::<BodyLimit>()
        .map_or(usize::MAX, |l| l.0);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::TooLarge(limit))?;
    if bytes.is_empty() && !required {
        return Ok(Request::from_parts(parts, Body::from(bytes)));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::Malformed(format!(
            "the body is not JSON: {}",
            mdm_proto::bounded(&e.to_string(), 200)
        ))
    })?;
    let refusal = schema.iter_errors(&value).next().map(|error| {
        let at = error.instance_path().to_string();
        format!(
            "the body does not match the schema at {:?}: {}",
            if at.is_empty() { "/" } else { at.as_str() },
            mdm_proto::bounded(&error.masked().to_string(), 200)
        )
    });
    if let Some(refusal) = refusal {
        return Err(ApiError::Malformed(refusal));
    }
    // JSON Schema counts `5.0` as an integer; serde's integer types do not.
    let mut value = value;
    if integral_floats_to_integers(&mut value) {
        let bytes = serde_json::to_vec(&value)
            .map_err(|e| ApiError::Internal(format!("a valid body would not serialize: {e}")))?;
        return Ok(Request::from_parts(parts, Body::from(bytes)));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Rewrites every float without a fraction (`5.0`) as the integer it is, as JSON Schema reads
/// it; answers whether anything changed.
fn integral_floats_to_integers(value: &mut Value) -> bool {
    match value {
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or(f64::NAN);
            // Within ±2^53 a float is an exact integer; beyond, no field accepts it anyway.
            if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
                *value = Value::from(float as i64);
                return true;
            }
            false
        }
        // Every element is visited: no short-circuit.
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= integral_floats_to_integers(item);
            }
            changed
        }
        Value::Object(fields) => {
            let mut changed = false;
            for field in fields.values_mut() {
                changed |= integral_floats_to_integers(field);
            }
            changed
        }
        _ => false,
    }
}

/// A parameter's text as the JSON value its schema describes.
fn typed(parameter: &Parameter, value: &str) -> Result<Value, ApiError> {
    let wrong = |what: &str| ApiError::Malformed(format!("{} must be {what}", parameter.name));
    Ok(match parameter.kind {
        Kind::Text => Value::String(value.to_owned()),
        Kind::Integer => {
            let mut number = match value.parse::<i64>() {
                Ok(integer) => Value::from(integer),
                Err(_) => value
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| wrong("an integer"))?,
            };
            integral_floats_to_integers(&mut number);
            if !number.is_i64() {
                return Err(wrong("an integer"));
            }
            number
        }
        Kind::Boolean => match value {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(wrong("true or false")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integral_floats_become_integers_and_nothing_else_changes() {
        let mut value = json!({"a": 5.0, "b": [1.5, -2.0, "3.0"], "c": {"d": 7}});
        assert!(integral_floats_to_integers(&mut value));
        assert_eq!(value, json!({"a": 5, "b": [1.5, -2, "3.0"], "c": {"d": 7}}));
        assert!(value["a"].is_i64());
        assert!(!integral_floats_to_integers(&mut json!({"x": 1})));
    }

    #[test]
    fn the_document_compiles_with_every_operation() {
        let document = serde_json::to_value(crate::routes::document()).expect("json");
        let schemas = RequestSchemas::new(&document).expect("compiles");
        let operations: usize = document["paths"]
            .as_object()
            .expect("paths")
            .values()
            .map(|item| item.as_object().map_or(0, |o| o.len()))
            .sum();
        // All but the document itself, which is served without a token.
        assert_eq!(schemas.operations.len(), operations - 1);
        let revoke =
            &schemas.operations[&(Method::POST, "/v1/certificates/{serial}/revoke".to_owned())];
        assert_eq!(revoke.scopes, [Scope::Destructive]);
        let list = &schemas.operations[&(Method::GET, "/v1/devices".to_owned())];
        let limit = list
            .parameters
            .iter()
            .find(|p| p.name == "limit")
            .expect("limit");
        assert_eq!(limit.kind, Kind::Integer);
        assert!(limit.schema.is_valid(&json!(10)));
        assert!(!limit.schema.is_valid(&json!(0)));
        let enqueue = &schemas.operations[&(Method::POST, "/v1/commands".to_owned())];
        let (body, required) = enqueue.body.as_ref().expect("a body");
        assert!(*required);
        assert!(body.is_valid(&json!({"devices": ["A"], "command": {}})));
        for bad in [
            json!({"devices": [], "command": {}}),
            json!({"devices": ["A", "A"], "command": {}}),
            json!({"devices": [""], "command": {}}),
            json!({"devices": ["A"], "command": {}, "expiry": {"expires_at": "x", "ttl_seconds": 5}}),
            json!({"devices": ["A"], "command": {}, "extra": 1}),
        ] {
            assert!(!body.is_valid(&bad), "{bad}");
        }
    }
}
