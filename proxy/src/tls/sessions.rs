//! The device listener's TLS session cache, kept by the edge rather than by OpenSSL.
//!
//! A device comes back on a new connection after every push; resuming its TLS session skips the
//! certificate exchange and verification. Two things OpenSSL 3.0 does by default make that
//! costly or useless here, measured with the benchmark's `--resume-tls` sessions:
//!
//! - **Stateless tickets** carry the whole session, the client certificate included, and every
//!   resumption decodes it again, the certificate's public key through the provider decoders:
//!   half of the edge's CPU per resumed handshake.
//! - **OpenSSL's own session cache** (stateful tickets) drops a connection's latest session when
//!   the connection ends without the server sending close_notify, which is how devices and
//!   HTTP/2 clients end theirs; the ticket a client uses next is that latest one, so nearly every
//!   reconnection became a full handshake. TLS 1.3 does not ask for this (RFC 8446 §6.1: an
//!   improper close no longer bars resumption).
//!
//! So the listener issues stateful tickets (`SSL_OP_NO_TICKET`: a ticket is a session ID) and
//! keeps the sessions itself: a bounded cache with OpenSSL's session lifetime, holding a copy of
//! each session, which OpenSSL's end-of-connection bookkeeping does not touch. A ticket resumes
//! once (its use takes it out of the cache and the resumed connection issues a new one). A session
//! never outlives the certificate checks made per request: admission still decides every request.
//!
//! The two OpenSSL calls the `openssl` crate does not offer safely are here and only here.
#![allow(unsafe_code)]

use foreign_types::{ForeignType, ForeignTypeRef};
use moka::sync::Cache;
use openssl::ssl::{SslContextBuilder, SslOptions, SslSession, SslSessionCacheMode, SslSessionRef};
use std::time::Duration;

/// How long a session can be resumed: OpenSSL's default session timeout for TLS, which is also
/// the lifetime its tickets announce; OpenSSL checks it again at every resumption.
const LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

extern "C" {
    /// `SSL_SESSION_dup` (OpenSSL 1.1.1 and later), which `openssl-sys` does not declare.
    fn SSL_SESSION_dup(src: *const openssl_sys::SSL_SESSION) -> *mut openssl_sys::SSL_SESSION;
}

/// Makes `tls` resume sessions from a cache of at most `capacity` sessions.
pub fn install(tls: &mut SslContextBuilder, capacity: u64) {
    let cache: Cache<Vec<u8>, SslSession> = Cache::builder()
        .max_capacity(capacity)
        .time_to_live(LIFETIME)
        .build();
    tls.set_options(SslOptions::NO_TICKET);
    tls.set_session_cache_mode(SslSessionCacheMode::SERVER | SslSessionCacheMode::NO_INTERNAL);
    let store = cache.clone();
    tls.set_new_session_callback(move |_, session| {
        if let Some(copy) = detached_copy(&session) {
            store.insert(copy.id().to_vec(), copy);
        }
    });
    // SAFETY: the callback hands OpenSSL only sessions this context created (stored by the
    // callback above, whose cache nothing else can reach), which is what
    // `set_get_session_callback` requires.
    unsafe {
        tls.set_get_session_callback(move |_, id| cache.remove(id));
    }
}

/// A copy of `session` of its own: OpenSSL marks the connection's current session object
/// unresumable when the connection ends without close_notify, and that mark must not reach the
/// cached copy. The certificate is shared, not copied.
fn detached_copy(session: &SslSessionRef) -> Option<SslSession> {
    // SAFETY: `session` is a valid session for the duration of the call; SSL_SESSION_dup returns
    // a new session with one reference, owned by the returned `SslSession`, or null on failure.
    unsafe {
        let copy = SSL_SESSION_dup(session.as_ptr());
        (!copy.is_null()).then(|| SslSession::from_ptr(copy))
    }
}
