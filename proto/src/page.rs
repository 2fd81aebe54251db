//! The paging convention every listing RPC shares: a request's `limit` of 0 means the default.

/// Rows a page holds when the request does not say.
pub const DEFAULT_PAGE: u32 = 100;
/// The most rows one page holds, whatever the request says.
pub const MAX_PAGE: u32 = 1000;

/// The number of rows to answer for a request's `limit`: [`DEFAULT_PAGE`] for 0, at most
/// [`MAX_PAGE`].
pub fn page_limit(requested: u32) -> i64 {
    i64::from(match requested {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_the_default_and_the_maximum_holds() {
        assert_eq!(page_limit(0), 100);
        assert_eq!(page_limit(7), 7);
        assert_eq!(page_limit(50_000), 1000);
    }
}
