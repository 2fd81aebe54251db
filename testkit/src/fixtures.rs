//! The third-party protocol data in the repository's `fixtures/` (provenance and licences in its
//! README). A missing file fails the test at once, naming the path it looked for.

use std::path::PathBuf;

/// The repository's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures"))
}

/// The bytes of `fixtures/<relative>`; panics with the full path when it cannot be read.
pub fn fixture(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// The text of `fixtures/<relative>`; panics with the full path when it cannot be read.
pub fn fixture_text(relative: &str) -> String {
    let bytes = fixture(relative);
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("fixture {relative} is not UTF-8: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_fixture_names_its_path() {
        let panic = std::panic::catch_unwind(|| fixture("no/such/file.xml")).expect_err("missing");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("fixtures/no/such/file.xml"), "{message}");
    }

    #[test]
    fn a_present_fixture_reads() {
        assert!(fixture_text("commandment/LICENSE.txt").contains("Permission is hereby granted"));
    }
}
