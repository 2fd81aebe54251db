//! Query-string parameters of the list endpoints. Unknown or repeated parameters are refused,
//! so that a misspelt filter (`?stauts=enrolled`) fails instead of silently listing everything.

use super::error::AdminError;
use percent_encoding::percent_decode_str;

/// The decoded parameters of one query string.
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses `a=1&b=x%3Ay` (form encoding: `+` is a space), accepting only the `allowed` names.
    pub fn parse(query: Option<&str>, allowed: &[&str]) -> Result<Query, AdminError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(name)?;
            if !allowed.contains(&name.as_str()) {
                return Err(AdminError::Invalid(format!(
                    "unknown query parameter {name:?} (expected one of: {})",
                    allowed.join(", ")
                )));
            }
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(AdminError::Invalid(format!(
                    "query parameter {name:?} is repeated"
                )));
            }
            pairs.push((name, decode(value)?));
        }
        Ok(Query { pairs })
    }

    /// The value of `name`, if given and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// `limit` within `1..=max`; `None` when absent (the service applies its default).
    pub fn limit(&self, max: u32) -> Result<Option<u32>, AdminError> {
        let Some(raw) = self.get("limit") else {
            return Ok(None);
        };
        match raw.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(AdminError::Invalid(format!(
                "limit must be an integer from 1 to {max}"
            ))),
        }
    }
}

fn decode(raw: &str) -> Result<String, AdminError> {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| AdminError::Invalid("the query string is not UTF-8 once decoded".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_decode() {
        let q = Query::parse(
            Some("after=A%3AB&limit=5&status="),
            &["after", "limit", "status"],
        )
        .expect("valid");
        assert_eq!(q.get("after"), Some("A:B"));
        assert_eq!(q.limit(1000).expect("in range"), Some(5));
        assert_eq!(q.get("status"), None, "empty means not given");
    }

    #[test]
    fn unknown_repeated_and_out_of_range_are_refused() {
        assert!(Query::parse(Some("stauts=enrolled"), &["status"]).is_err());
        assert!(Query::parse(Some("limit=1&limit=2"), &["limit"]).is_err());
        for bad in ["limit=0", "limit=1001", "limit=-1", "limit=x"] {
            let q = Query::parse(Some(bad), &["limit"]).expect("parses");
            assert!(q.limit(1000).is_err(), "{bad}");
        }
        let none = Query::parse(None, &["limit"]).expect("empty");
        assert_eq!(none.limit(1000).expect("absent"), None);
    }
}
