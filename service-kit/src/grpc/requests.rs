//! `mdm_grpc_requests_total{method}`: the calls a service received, by gRPC method. Every
//! replica of every service counts its own, which is how an operator (and the replica test)
//! sees that a balanced client spreads its calls.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Most distinct method labels kept; a caller inventing paths gets `other` past it.
const MAX_METHODS: usize = 64;

/// Labels of a received call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    /// `/mdm.v1.Commands/Report`, or `other`.
    pub method: String,
}

/// Counts a server's calls: wrap each service added to the tonic `Server` with
/// [`RequestCounter::wrap`].
#[derive(Clone, Debug)]
pub struct RequestCounter {
    calls: Family<MethodLabels, Counter>,
    methods: Arc<Mutex<HashSet<String>>>,
}

impl RequestCounter {
    /// A counter registered in `registry`.
    pub fn register(registry: &mut Registry) -> RequestCounter {
        let counter = RequestCounter {
            calls: Family::default(),
            methods: Arc::default(),
        };
        registry.register(
            "mdm_grpc_requests",
            "gRPC calls received, by method",
            counter.calls.clone(),
        );
        counter
    }

    /// `service` (a generated tonic server) with its calls counted.
    pub fn wrap<S>(&self, service: S) -> Counted<S> {
        Counted {
            inner: service,
            counter: self.clone(),
        }
    }

    fn count(&self, path: &str) {
        let mut methods = self.methods.lock().unwrap_or_else(|e| e.into_inner());
        let method = if methods.contains(path) {
            path.to_owned()
        } else if methods.len() < MAX_METHODS && path.len() <= 128 {
            methods.insert(path.to_owned());
            path.to_owned()
        } else {
            "other".to_owned()
        };
        drop(methods);
        self.calls.get_or_create(&MethodLabels { method }).inc();
    }
}

/// A service whose calls are counted.
#[derive(Clone, Debug)]
pub struct Counted<S> {
    inner: S,
    counter: RequestCounter,
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for Counted<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tower_service::Service<http::Request<B>> for Counted<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.counter.count(request.uri().path());
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_counted_and_bounded() {
        let counter = RequestCounter::register(&mut Registry::default());
        for i in 0..100 {
            counter.count(&format!("/x.Y/M{i}"));
        }
        counter.count("/x.Y/M0");
        let get = |m: &str| {
            counter
                .calls
                .get_or_create(&MethodLabels { method: m.into() })
                .get()
        };
        assert_eq!(get("/x.Y/M0"), 2);
        assert_eq!(get("other"), 100 - MAX_METHODS as u64);
    }
}
