//! Following a list page by page: `cursor` and `limit` on each request, the answer's
//! `next_cursor` for the next, until the list ends or as many items as wanted were read. A few
//! lists are short enough that the server answers them whole, without either parameter.

use super::answer::{Answer, Listing};
use super::query::{Filters, Pairs};
use super::{Api, ApiError};
use mdm_api::page::MAX_LIMIT;
use mdm_api::Page;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How much of a list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// At most this many items; every one when `None`.
    max: Option<usize>,
    /// Items asked for per request.
    page_size: u32,
}

impl Span {
    /// Every item, `page_size` per request.
    pub fn all(page_size: u32) -> Span {
        Span {
            max: None,
            page_size: page_size.clamp(1, MAX_LIMIT),
        }
    }

    /// The first `n` items (at least one), in as few requests as the server allows.
    pub fn first(n: usize) -> Span {
        let n = n.max(1);
        Span {
            max: Some(n),
            page_size: u32::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
        }
    }

    /// The `limit` of the next request, once `read` items are in; `None` when enough are.
    fn next_limit(&self, read: usize) -> Option<u32> {
        match self.max {
            None => Some(self.page_size),
            Some(max) if read >= max => None,
            Some(max) => Some(
                u32::try_from(max - read)
                    .unwrap_or(MAX_LIMIT)
                    .min(self.page_size),
            ),
        }
    }
}

impl Api {
    /// The items of the list at `segments` matching `filters`, as much as `span` asks for.
    pub async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        filters: &impl Filters,
        span: Span,
    ) -> Result<Listing<T>, ApiError> {
        let mut listing = Listing::default();
        let mut cursor: Option<String> = None;
        while let Some(limit) = span.next_limit(listing.len()) {
            let mut query = filters.filters();
            query.extend(cursor.clone().map(|c| ("cursor", c)));
            query.push(("limit", limit.to_string()));
            let page: Answer<Page<T>> = self.get(segments, &query).await?;
            let next_cursor = page.value.next_cursor.clone();
            listing.extend(page);
            match next_cursor {
                // A server that hands back the cursor it was given would loop forever.
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => return Ok(listing),
            }
        }
        listing.more = true;
        Ok(listing)
    }

    /// The items of a list the server answers whole, in one page, and that takes neither
    /// `cursor` nor `limit` (it refuses parameters it does not know): webhooks, blueprints.
    pub async fn whole<T: DeserializeOwned>(
        &self,
        segments: &[&str],
    ) -> Result<Listing<T>, ApiError> {
        let mut listing = Listing::default();
        listing.extend(self.get(segments, &Pairs::new()).await?);
        Ok(listing)
    }
}

impl<T> Listing<T> {
    /// Appends a page's items, decoded and as sent.
    fn extend(&mut self, page: Answer<Page<T>>) {
        self.items.extend(page.value.items);
        if let Value::Object(mut fields) = page.json {
            if let Some(Value::Array(items)) = fields.remove("items") {
                self.json.extend(items);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_asks_for_what_is_left() {
        let all = Span::all(5000);
        assert_eq!(all.next_limit(0), Some(MAX_LIMIT));
        assert_eq!(all.next_limit(1_000_000), Some(MAX_LIMIT));
        let first = Span::first(2500);
        assert_eq!(first.next_limit(0), Some(1000));
        assert_eq!(first.next_limit(2000), Some(500));
        assert_eq!(first.next_limit(2500), None);
        assert_eq!(Span::first(50).next_limit(0), Some(50));
        assert_eq!(Span::first(0).next_limit(0), Some(1));
    }
}
