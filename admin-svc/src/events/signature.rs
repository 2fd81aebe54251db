//! The signature a receiver checks: `Mdm-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` of
//! `"<t>.<body>"` under the webhook's secret. The time is signed with the body so that a
//! captured delivery cannot be replayed later than the receiver's tolerance.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const HEADER: &str = "mdm-signature";

/// The header value for `body` sent at `unix_secs`.
pub fn sign(secret: &[u8], unix_secs: i64, body: &[u8]) -> String {
    format!(
        "t={unix_secs},v1={}",
        hex::encode(mac(secret, unix_secs, body))
    )
}

/// Whether `header` signs `body` under `secret` (what a receiver does; the tests use it).
pub fn verify(secret: &[u8], header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let mut check = keyed(secret);
    check.update(t.to_string().as_bytes());
    check.update(b".");
    check.update(body);
    check.verify_slice(&v1).is_ok()
}

fn keyed(secret: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length")
}

fn mac(secret: &[u8], unix_secs: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = keyed(secret);
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_time_and_body() {
        let header = sign(b"secret", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("t=1700000000,v1="));
        assert!(verify(b"secret", &header, b"{\"a\":1}"));
        assert!(!verify(b"other", &header, b"{\"a\":1}"));
        assert!(!verify(b"secret", &header, b"{\"a\":2}"));
        let moved = header.replace("t=1700000000", "t=1700000001");
        assert!(!verify(b"secret", &moved, b"{\"a\":1}"));
        assert!(!verify(b"secret", "garbage", b"{\"a\":1}"));
    }

    #[test]
    fn the_mac_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = keyed(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
