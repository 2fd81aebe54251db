//! `devsim` is where the MDM server meets stand-ins for the outside world it cannot reach from a
//! test: today the **mock APNs**, later the simulated devices and the load generator
//! (docs/architecture.md §9). Apple's push servers cannot be reached from a test machine, so push-svc's real
//! send path runs against this mock over real TLS and HTTP/2.
//!
//! The mock checks what Apple checks and a little more: the client certificate must chain to a
//! configured CA (the push certificate), the path must be `/3/device/<hex token>`, `apns-topic`
//! must equal the certificate's UID attribute, `apns-push-type` must be `mdm`, `apns-expiration`
//! must be present, and the body must be exactly `{"mdm":"<PushMagic>"}`. It can inject APNs
//! errors (410, 400, 403, ...), latency and a GOAWAY every N requests, records every delivery,
//! and lets a subscriber (a simulated device) wait for its push.
//!
//! # Layout
//! - [`mock_apns`]: [`MockApns`], the server handle tests and the binary use, and its settings.
//! - `mock_apns::server`: TLS accept loop and the HTTP/2 connection (GOAWAY, latency).
//! - `mock_apns::validate`: what makes a request a valid MDM push, and the APNs reason if not.
//! - `mock_apns::record`: deliveries, refusals, injected faults and waiting for a push.
//! - `mock_apns::feed`: the long-poll feed of deliveries for devices in other processes.
//! - [`push_feed`]: [`PushFeed`], the devices' client of that feed.
//! - [`admin`]: [`admin::AdminApi`], the simulator's client of admin-svc's REST API (queue
//!   commands, make enrollment tokens, read commands, their deliveries page by page, devices).
//! - [`sim`]: simulated devices and their measurements.
//! - [`error`]: the crate's error.
//!
//! The `mock-apns` binary runs the same server as its own process:
//! `cargo run -p devsim --bin mock-apns -- --help`.

pub mod admin;
pub mod error;
pub mod mock_apns;
pub mod push_feed;
pub mod sim;

pub use error::Error;
pub use mock_apns::{Delivery, Fault, MockApns, MockApnsConfig, Refusal};
pub use push_feed::PushFeed;
