//! Which events a webhook wants: its type patterns, and what its body format can say.

use crate::events::body;
use mdm_api::webhooks::WebhookFormat;

/// A type pattern: `*` (every event), `command.*` (a family), or one type.
pub fn matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) => kind.starts_with(prefix),
        None => pattern == kind,
    }
}

/// Whether `pattern` is well formed: `*`, `<family>.*` or a dotted type of lowercase words.
pub fn is_valid_pattern(pattern: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if pattern == "*" {
        return true;
    }
    let (family, rest) = match pattern.split_once('.') {
        Some(parts) => parts,
        None => return false,
    };
    word(family) && (rest == "*" || word(rest))
}

/// An enabled webhook as ingest fans events out to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The webhook.
    pub webhook_id: String,
    /// Its type patterns.
    pub patterns: Vec<String>,
    /// Its body format.
    pub format: WebhookFormat,
}

impl Subscription {
    /// Whether an event of type `kind` is delivered to it: a pattern matches, and its format
    /// has a body for it.
    pub fn wants(&self, kind: &str) -> bool {
        body::carries(self.format, kind) && self.patterns.iter().any(|p| matches(p, kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_all_a_family_or_one_type() {
        assert!(matches("*", "command.acknowledged"));
        assert!(matches("command.*", "command.acknowledged"));
        assert!(!matches("command.*", "enrollment.authenticated"));
        assert!(!matches("command.*", "commands.x"));
        assert!(matches("push.failed", "push.failed"));
        assert!(!matches("push.failed", "push.failed2"));
    }

    #[test]
    fn only_well_formed_patterns_are_accepted() {
        for good in ["*", "command.*", "enrollment.token_update"] {
            assert!(is_valid_pattern(good), "{good}");
        }
        for bad in [
            "",
            "command",
            "command.",
            ".x",
            "Command.x",
            "a.b.c",
            "command.*x",
            "*.x",
        ] {
            assert!(!is_valid_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn a_micromdm_webhook_gets_only_what_its_body_can_say() {
        let sub = Subscription {
            webhook_id: "w".into(),
            patterns: vec!["*".into()],
            format: WebhookFormat::Micromdm,
        };
        assert!(sub.wants("enrollment.authenticated"));
        assert!(sub.wants("command.acknowledged"));
        assert!(!sub.wants("push.delivered"));
        assert!(!sub.wants("command.queued"));
    }
}
