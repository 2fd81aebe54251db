//! Bearer-token authentication and scope checks.
//!
//! Tokens are configured as SHA-256 digests. A presented token is hashed and compared with every
//! configured digest in constant time, without stopping at the first match, so that the time
//! taken says nothing about which digest (or how much of one) matched.

use super::config::{parse_sha256, AdminToken, Scope};
use super::error::AdminError;
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// The configured tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    digest: [u8; 32],
    caller: Caller,
}

/// Who is calling, once the token is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name: `requested_by` in the command history.
    pub name: String,
    scopes: Vec<Scope>,
}

impl Caller {
    /// A caller with these scopes (for tests and tools).
    pub fn new(name: impl Into<String>, scopes: &[Scope]) -> Caller {
        Caller {
            name: name.into(),
            scopes: scopes.to_vec(),
        }
    }

    /// Refuses with 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AdminError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(AdminError::Forbidden {
                caller: self.name.clone(),
                missing: scope,
            })
        }
    }
}

impl Tokens {
    /// The validated configuration's tokens. A digest that does not decode (validation refuses
    /// it) is skipped rather than matching anything.
    pub fn new(tokens: &[AdminToken]) -> Tokens {
        let entries = tokens
            .iter()
            .filter_map(|token| {
                Some(Entry {
                    digest: parse_sha256(&token.sha256)?,
                    caller: Caller::new(token.name.clone(), &token.scopes),
                })
            })
            .collect();
        Tokens { entries }
    }

    /// Verifies an `Authorization` header value. Missing, malformed or unknown → 401.
    pub fn authenticate(&self, authorization: Option<&[u8]>) -> Result<Caller, AdminError> {
        let token = authorization
            .and_then(bearer_token)
            .ok_or(AdminError::Unauthorized)?;
        let presented: [u8; 32] = Sha256::digest(token).into();
        // Index of the matching entry, chosen without a data-dependent branch.
        let mut found = subtle::Choice::from(0);
        let mut index = 0u64;
        for (i, entry) in self.entries.iter().enumerate() {
            let hit = digests_equal(&presented, &entry.digest);
            index.conditional_assign(&(i as u64), hit);
            found |= hit;
        }
        if bool::from(found) {
            let index = usize::try_from(index).map_err(|_| AdminError::Unauthorized)?;
            self.entries
                .get(index)
                .map(|entry| entry.caller.clone())
                .ok_or(AdminError::Unauthorized)
        } else {
            Err(AdminError::Unauthorized)
        }
    }
}

/// Constant-time equality of two digests.
pub fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> subtle::Choice {
    a.ct_eq(b)
}

/// The token of `Bearer <token>` (scheme case-insensitive, RFC 7235); `None` for any other form.
fn bearer_token(header: &[u8]) -> Option<&[u8]> {
    let header = header.trim_ascii();
    let (scheme, rest) = header.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || !rest.first()?.is_ascii_whitespace() {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        let ops = AdminToken {
            name: "ops".into(),
            sha256: hex::encode(Sha256::digest(b"s3cret-ops")),
            scopes: vec![Scope::Read, Scope::Commands],
        };
        let ci = AdminToken {
            name: "ci".into(),
            sha256: hex::encode(Sha256::digest(b"s3cret-ci")).to_uppercase(),
            scopes: vec![Scope::Read],
        };
        Tokens::new(&[ops, ci])
    }

    #[test]
    fn a_good_token_names_its_caller() {
        let caller = tokens()
            .authenticate(Some(b"Bearer s3cret-ops"))
            .expect("valid");
        assert_eq!(caller.name, "ops");
        let caller = tokens()
            .authenticate(Some(b"bearer   s3cret-ci "))
            .expect("scheme is case-insensitive, upper-case hex accepted");
        assert_eq!(caller.name, "ci");
    }

    #[test]
    fn bad_or_missing_tokens_are_401() {
        let t = tokens();
        for header in [
            None,
            Some(&b""[..]),
            Some(b"Bearer"),
            Some(b"Bearer "),
            Some(b"Bearer wrong"),
            Some(b"Basic czNjcmV0LW9wcw=="),
            Some(b"Bearers3cret-ops"),
            Some(b"s3cret-ops"),
        ] {
            let result = t.authenticate(header);
            assert!(
                matches!(result, Err(AdminError::Unauthorized)),
                "{header:?}"
            );
        }
    }

    #[test]
    fn a_missing_scope_is_403() {
        let caller = tokens()
            .authenticate(Some(b"Bearer s3cret-ci"))
            .expect("valid");
        assert!(caller.require(Scope::Read).is_ok());
        let refused = caller.require(Scope::Commands);
        assert!(matches!(
            refused,
            Err(AdminError::Forbidden {
                missing: Scope::Commands,
                ..
            })
        ));
        assert_eq!(
            refused.map_err(|e| e.status()).err(),
            Some(http::StatusCode::FORBIDDEN)
        );
    }

    #[test]
    fn digest_comparison_is_exact() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(bool::from(digests_equal(&a, &b)));
        b[31] ^= 1;
        assert!(!bool::from(digests_equal(&a, &b)));
        b = a;
        b[0] ^= 0x80;
        assert!(!bool::from(digests_equal(&a, &b)));
    }
}
