//! Serving gRPC: a tonic router on a bound listener with a bounded graceful shutdown
//! ([`serve`]), a whole service process's serving half ([`ServiceProcess`]), and the count of
//! calls received ([`RequestCounter`]).

mod requests;
mod serve;

pub use requests::{Counted, MethodLabels, RequestCounter};
pub use serve::{serve, ServiceProcess, SHUTDOWN_GRACE};
