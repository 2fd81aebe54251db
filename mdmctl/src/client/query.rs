//! The filters of the lists as query parameters, from the `mdm-api` query types themselves.
//! Those types are only deserialized by the server, so their parameters are written out here;
//! each is destructured in full, so that a filter added to `mdm-api` stops mdmctl from compiling
//! until it is handled, instead of never being sent. `cursor` and `limit` are the pager's
//! ([`super::paging`]), whatever the query holds.

use mdm_api::audit::AuditQuery;
use mdm_api::blueprints::RunQuery;
use mdm_api::commands::{CommandQuery, DeliveryQuery};
use mdm_api::declarations::{DeclarationStateFilter, StateQuery};
use mdm_api::devices::DeviceQuery;
use mdm_api::enrollment::EnrollmentTokenQuery;
use mdm_api::identities::RenewalQuery;
use mdm_api::webhooks::{DeliveryQuery as WebhookDeliveryQuery, EventQuery};
use mdm_api::Cursor;

/// Query parameters, in order.
pub type Pairs = Vec<(&'static str, String)>;

/// A list's filters.
pub trait Filters {
    /// The filters given, by their API names.
    fn filters(&self) -> Pairs;
}

/// Appends `name=value` when a value is given.
fn add(pairs: &mut Pairs, name: &'static str, value: Option<impl ToString>) {
    if let Some(value) = value {
        pairs.push((name, value.to_string()));
    }
}

impl Filters for DeviceQuery {
    fn filters(&self) -> Pairs {
        let DeviceQuery {
            status,
            serial,
            model,
            os_version,
            name,
            last_seen_after,
            last_seen_before,
            sort,
            descending,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "status", status.map(|s| s.as_str()));
        add(&mut pairs, "sort", sort.map(|s| s.as_str()));
        add(&mut pairs, "descending", descending.as_ref());
        add(&mut pairs, "serial", serial.as_ref());
        add(&mut pairs, "model", model.as_ref());
        add(&mut pairs, "os_version", os_version.as_ref());
        add(&mut pairs, "name", name.as_ref());
        add(&mut pairs, "last_seen_after", last_seen_after.as_ref());
        add(&mut pairs, "last_seen_before", last_seen_before.as_ref());
        pairs
    }
}

impl Filters for CommandQuery {
    fn filters(&self) -> Pairs {
        let CommandQuery {
            request_type,
            requested_by,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "request_type", request_type.as_ref());
        add(&mut pairs, "requested_by", requested_by.as_ref());
        pairs
    }
}

impl Filters for DeliveryQuery {
    fn filters(&self) -> Pairs {
        let DeliveryQuery {
            status,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "status", status.map(|s| s.as_str()));
        pairs
    }
}

impl Filters for EnrollmentTokenQuery {
    fn filters(&self) -> Pairs {
        let EnrollmentTokenQuery {
            include_inactive,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "include_inactive", *include_inactive);
        pairs
    }
}

impl Filters for AuditQuery {
    fn filters(&self) -> Pairs {
        let AuditQuery {
            enrollment_id,
            action,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "enrollment_id", enrollment_id.as_ref());
        add(&mut pairs, "action", action.as_ref());
        pairs
    }
}

impl Filters for WebhookDeliveryQuery {
    fn filters(&self) -> Pairs {
        let WebhookDeliveryQuery {
            status,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "status", status.map(|s| s.as_str()));
        pairs
    }
}

impl Filters for EventQuery {
    fn filters(&self) -> Pairs {
        let EventQuery {
            device,
            kind,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "device", device.as_ref());
        add(&mut pairs, "type", kind.as_ref());
        pairs
    }
}

/// One page, newest first: the server has no cursor for runs, only `limit` (the pager's).
impl Filters for RunQuery {
    fn filters(&self) -> Pairs {
        let RunQuery { device, limit: _ } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "device", device.as_ref());
        pairs
    }
}

/// One page, newest first, like runs.
impl Filters for RenewalQuery {
    fn filters(&self) -> Pairs {
        let RenewalQuery {
            device,
            status,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(&mut pairs, "device", device.as_ref());
        add(&mut pairs, "status", status.map(|s| s.as_str()));
        pairs
    }
}

/// A declaration's devices, or a device's declarations, with what they reported.
impl Filters for StateQuery {
    fn filters(&self) -> Pairs {
        let StateQuery {
            state,
            cursor: _,
            limit: _,
        } = self;
        let mut pairs = Pairs::new();
        add(
            &mut pairs,
            "state",
            state.map(|state| match state {
                DeclarationStateFilter::Applied => "applied",
                DeclarationStateFilter::Pending => "pending",
                DeclarationStateFilter::Failed => "failed",
            }),
        );
        pairs
    }
}

/// A list without filters.
impl Filters for Cursor {
    fn filters(&self) -> Pairs {
        let Cursor {
            cursor: _,
            limit: _,
        } = self;
        Pairs::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdm_api::commands::DeliveryStatus;
    use mdm_api::devices::EnrollmentStatus;

    #[test]
    fn only_the_filters_given_are_sent() {
        let query = DeviceQuery {
            status: Some(EnrollmentStatus::CheckedOut),
            os_version: Some("17.4".into()),
            cursor: Some("ignored: the pager's".into()),
            ..DeviceQuery::default()
        };
        assert_eq!(
            query.filters(),
            [
                ("status", "checked_out".to_owned()),
                ("os_version", "17.4".to_owned()),
            ]
        );
        let query = DeliveryQuery {
            status: Some(DeliveryStatus::CommandFormatError),
            ..DeliveryQuery::default()
        };
        assert_eq!(
            query.filters(),
            [("status", "command_format_error".to_owned())]
        );
        let tokens = EnrollmentTokenQuery {
            include_inactive: Some(true),
            ..EnrollmentTokenQuery::default()
        };
        assert_eq!(tokens.filters(), [("include_inactive", "true".to_owned())]);
        assert!(Cursor::default().filters().is_empty());
        let events = EventQuery {
            device: Some("UDID-1".into()),
            kind: Some("command.acknowledged".into()),
            ..EventQuery::default()
        };
        assert_eq!(
            events.filters(),
            [
                ("device", "UDID-1".to_owned()),
                ("type", "command.acknowledged".to_owned()),
            ]
        );
        let dead = WebhookDeliveryQuery {
            status: Some(mdm_api::webhooks::DeliveryState::Dead),
            ..WebhookDeliveryQuery::default()
        };
        assert_eq!(dead.filters(), [("status", "dead".to_owned())]);
        let failed = StateQuery {
            state: Some(DeclarationStateFilter::Failed),
            ..StateQuery::default()
        };
        assert_eq!(failed.filters(), [("state", "failed".to_owned())]);
        assert!(StateQuery::default().filters().is_empty());
    }
}
