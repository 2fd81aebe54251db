//! Enrollment end to end, through the real proxy and enroll-svc processes on loopback with
//! real TLS: SCEP for every envelope cipher over POST and GET (and its refusals), a third-party
//! SCEP client (`scepclient`), the signed profiles and `/MDMServiceConfig`, and a full OTA
//! enrollment ending with Authenticate/TokenUpdate over mTLS and a revoked certificate refused.
//!
//! Run: `cargo build --workspace --bins && cargo test -p proxy --test enrollment`.

mod enrollment {
    pub mod ota;
    pub mod profiles;
    pub mod scep;
    pub mod scepclient;
    pub mod support;
}
