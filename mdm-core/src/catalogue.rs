//! The command catalogue: every MDM request type Apple's device-management schema describes,
//! with its keys, types, required keys, allowed values and the platforms and OS versions that run
//! it, so every command can be checked before it is queued ([`check_command`]) and every tool can
//! describe the same commands (the admin API's document, mdmctl's help).
//!
//! The catalogue is data, `mdm-core/catalogue/commands.json`, generated from Apple's YAML
//! (`fixtures/apple-device-management/mdm/commands/`, MIT) by the test
//! `catalogue_is_generated_from_apples_schema` in `mdm-core/tests/catalogue.rs`, which rewrites it
//! and fails when it no longer matches the YAML. Supporting a new command or key is a schema
//! update: copy Apple's new release over the fixture and run that test. The declaration types of
//! Declarative Device Management are a second catalogue beside it, `catalogue/declarations.json`
//! ([`declarations`]), generated the same way from `declarative/`.

pub(crate) mod check;
mod json_schema;
mod model;
mod platform;

use std::sync::LazyLock;

pub use check::{check_command, server_supplied, Problem, SchemaError, SERVER_SUPPLIED};
pub use model::{
    Bounds, Catalogue, CommandSchema, DeclarationCatalogue, DeclarationSchema, KeySchema, KeyType,
    Support, WILDCARD,
};
pub use platform::{compare_versions, Platform, Target};

/// The generated catalogue, as shipped.
pub const CATALOGUE_JSON: &str = include_str!("../catalogue/commands.json");

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    // The file is generated and checked by this crate's tests; a malformed one cannot ship.
    serde_json::from_str(CATALOGUE_JSON).expect("catalogue/commands.json is a valid catalogue")
});

/// The catalogue, parsed once per process.
pub fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

/// The generated catalogue of declaration types and status items (Declarative Device
/// Management), as shipped.
pub const DECLARATIONS_JSON: &str = include_str!("../catalogue/declarations.json");

static DECLARATIONS: LazyLock<DeclarationCatalogue> = LazyLock::new(|| {
    // Generated and checked by this crate's tests, as the command catalogue is.
    serde_json::from_str(DECLARATIONS_JSON)
        .expect("catalogue/declarations.json is a valid catalogue")
});

/// The catalogue of declaration types, parsed once per process.
pub fn declarations() -> &'static DeclarationCatalogue {
    &DECLARATIONS
}

impl Catalogue {
    /// The schema of `request_type`, spelled exactly as Apple does.
    pub fn get(&self, request_type: &str) -> Option<&CommandSchema> {
        self.commands.get(request_type)
    }

    /// The request type spelled as given but for case: `devicelock` is `DeviceLock`.
    pub fn canonical(&self, request_type: &str) -> Option<&str> {
        let request_type = request_type.trim();
        self.commands
            .keys()
            .find(|known| known.eq_ignore_ascii_case(request_type))
            .map(String::as_str)
    }

    /// The known request type closest to a misspelled one: the same but for case, or at most two
    /// edits away (`DeviceLok` → `DeviceLock`).
    pub fn closest(&self, request_type: &str) -> Option<&str> {
        if let Some(same) = self.canonical(request_type) {
            return Some(same);
        }
        let wanted = request_type.to_ascii_lowercase();
        if wanted.len() > 64 {
            return None;
        }
        self.commands
            .keys()
            .map(|known| (edit_distance(&wanted, &known.to_ascii_lowercase()), known))
            .filter(|(distance, _)| *distance <= 2)
            .min()
            .map(|(_, known)| known.as_str())
    }
}

/// Levenshtein distance, by bytes (request types are ASCII; the caller bounds the length).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_request_types_find_their_match() {
        let catalogue = catalogue();
        assert_eq!(catalogue.closest("devicelock"), Some("DeviceLock"));
        assert_eq!(catalogue.closest("DeviceLok"), Some("DeviceLock"));
        assert_eq!(catalogue.closest("RestartDevise"), Some("RestartDevice"));
        assert_eq!(catalogue.closest("MakeCoffee"), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
