//! The options of `webhooks create` and `webhooks update` as the API's request bodies. The
//! endpoint, patterns and secret are checked by the server alone (its 400 names the field): its
//! rules live in admin-svc, and a copy here could only drift from them.

use super::{CreateArgs, UpdateArgs};
use crate::exit::UsageError;
use mdm_api::webhooks::{EventPattern, WebhookPatch, WebhookRequest};

/// The `POST /v1/webhooks` body: only what was given, the server's defaults for the rest.
pub fn create(args: CreateArgs) -> WebhookRequest {
    WebhookRequest {
        url: args.endpoint,
        events: patterns(args.events),
        format: args.format,
        description: args.description,
        secret: args.secret,
        enabled: args.disabled.then_some(false),
    }
}

/// The `PATCH /v1/webhooks/{id}` body. Nothing to change is a usage error: the server would
/// answer the webhook unchanged, and the administrator most likely forgot the option.
pub fn patch(args: &UpdateArgs) -> Result<WebhookPatch, UsageError> {
    let enabled = match (args.enable, args.disable) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let patch = WebhookPatch {
        url: args.endpoint.clone(),
        events: patterns(args.events.clone()),
        format: args.format,
        description: args.description.clone(),
        enabled,
    };
    if patch
        == (WebhookPatch {
            url: None,
            events: None,
            format: None,
            description: None,
            enabled: None,
        })
    {
        return Err(UsageError::with_hint(
            format!("nothing to change in webhook {}", args.id),
            "pass --endpoint, --event, --format, --description, --enable or --disable",
        ));
    }
    Ok(patch)
}

/// The patterns given; none is "not given" (the server's default on create, unchanged on
/// update), never an empty list, which the server refuses.
fn patterns(events: Vec<String>) -> Option<Vec<EventPattern>> {
    (!events.is_empty()).then(|| events.into_iter().map(EventPattern).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::webhooks::WebhookFormat;
    use serde_json::json;

    #[test]
    fn create_sends_only_what_was_given() {
        let plain = CreateArgs {
            endpoint: "https://hooks.example/mdm".into(),
            ..CreateArgs::default()
        };
        assert_eq!(
            serde_json::to_value(create(plain)).expect("json"),
            json!({"url": "https://hooks.example/mdm", "events": null, "format": null,
                   "description": null, "secret": null, "enabled": null})
        );
        let full = CreateArgs {
            endpoint: "https://hooks.example/mdm".into(),
            events: vec!["command.*".into(), "enrollment.authenticated".into()],
            format: Some(WebhookFormat::Micromdm),
            disabled: true,
            ..CreateArgs::default()
        };
        let body = serde_json::to_value(create(full)).expect("json");
        assert_eq!(
            body["events"],
            json!(["command.*", "enrollment.authenticated"])
        );
        assert_eq!(
            (&body["format"], &body["enabled"]),
            (&json!("micromdm"), &json!(false))
        );
    }

    #[test]
    fn update_needs_something_to_change() {
        let nothing = UpdateArgs {
            id: "W1".into(),
            ..UpdateArgs::default()
        };
        let error = patch(&nothing).expect_err("nothing to change");
        assert!(error.message.contains("W1"), "{error}");
        let pause = UpdateArgs {
            id: "W1".into(),
            disable: true,
            ..UpdateArgs::default()
        };
        assert_eq!(
            serde_json::to_value(patch(&pause).expect("a patch")).expect("json"),
            json!({"url": null, "events": null, "format": null, "description": null,
                   "enabled": false})
        );
        let resume = UpdateArgs {
            id: "W1".into(),
            enable: true,
            events: vec!["*".into()],
            ..UpdateArgs::default()
        };
        let body = patch(&resume).expect("a patch");
        assert_eq!(body.enabled, Some(true));
        assert_eq!(body.events, Some(vec![EventPattern("*".into())]));
    }
}
