//! The one way to make a client of each service: over any channel (an `Upstream`'s replica),
//! with the message-size limit every process agrees on. Servers use [`MAX_MESSAGE_BYTES`] too.

use crate::v1::commands_client::CommandsClient;
use crate::v1::declarative_client::DeclarativeClient;
use crate::v1::diagnostics_client::DiagnosticsClient;
use crate::v1::enrollment_client::EnrollmentClient;
use crate::v1::events_client::EventsClient;
use crate::v1::provisioning_client::ProvisioningClient;
use crate::v1::push_client::PushClient;
use tonic::transport::Channel;

/// The largest gRPC message either way between the workspace's processes: a command with an
/// embedded profile, a page of results.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

macro_rules! client {
    ($(#[$doc:meta])* $name:ident => $client:ident) => {
        $(#[$doc])*
        pub fn $name(channel: Channel) -> $client<Channel> {
            $client::new(channel)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES)
        }
    };
}

client!(
    /// enroll-svc's enrollments.
    enrollment => EnrollmentClient
);
client!(
    /// enroll-svc's provisioning: CA, SCEP, profiles, tokens, certificates.
    provisioning => ProvisioningClient
);
client!(
    /// enroll-svc's declarations, sets and device status (DDM).
    declarative => DeclarativeClient
);
client!(
    /// command-svc.
    commands => CommandsClient
);
client!(
    /// push-svc.
    push => PushClient
);
client!(
    /// The event outbox of any service that emits events.
    events => EventsClient
);
client!(
    /// What any service finds wrong with itself (`mdmctl doctor`).
    diagnostics => DiagnosticsClient
);
