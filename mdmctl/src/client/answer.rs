//! What a call answers: the document decoded with its `mdm-api` type, for mdmctl's own use, and
//! the JSON exactly as the server sent it, for `-o json`. The typed value is what tables and exit
//! codes are made from; the JSON keeps any field this mdmctl does not know yet, so a script
//! reading `-o json` sees everything the server said.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// One document.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    /// Decoded with the API's type.
    pub value: T,
    /// As sent.
    pub json: Value,
}

impl<T: DeserializeOwned> Answer<T> {
    /// Decodes `json` as a `T`, keeping `json`.
    pub fn decode(json: Value) -> Result<Answer<T>, serde_json::Error> {
        let value = T::deserialize(&json)?;
        Ok(Answer { value, json })
    }
}

/// The items of one or more pages of a list, in the list's order.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    /// Decoded.
    pub items: Vec<T>,
    /// As sent, one per item.
    pub json: Vec<Value>,
    /// The server holds more items than were asked for.
    pub more: bool,
}

impl<T> Default for Listing<T> {
    fn default() -> Listing<T> {
        Listing {
            items: Vec::new(),
            json: Vec::new(),
            more: false,
        }
    }
}

impl<T> Listing<T> {
    /// Keeps the items (and their JSON) for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let items = std::mem::take(&mut self.items);
        let json = std::mem::take(&mut self.json);
        for (item, json) in items.into_iter().zip(json) {
            if keep(&item) {
                self.items.push(item);
                self.json.push(json);
            }
        }
    }

    /// How many items were read.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no item was read.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_json_keeps_what_the_type_does_not_know() {
        let sent = json!({"enrollment_id": "U1", "future_field": 7});
        #[derive(serde::Deserialize)]
        struct Known {
            enrollment_id: String,
        }
        let answer = Answer::<Known>::decode(sent.clone()).expect("decodes");
        assert_eq!(answer.value.enrollment_id, "U1");
        assert_eq!(answer.json, sent);
    }

    #[test]
    fn retain_keeps_items_and_json_together() {
        let mut listing = Listing {
            items: vec![1, 2, 3],
            json: vec![json!("a"), json!("b"), json!("c")],
            more: false,
        };
        listing.retain(|n| n % 2 == 1);
        assert_eq!(listing.items, [1, 3]);
        assert_eq!(listing.json, [json!("a"), json!("c")]);
    }
}
