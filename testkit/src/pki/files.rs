//! PEM files on disk, for services that take certificate and key paths in their configuration.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::Issued;

/// Write `pem` to `dir/name` and return the path. Panics if the file cannot be written.
pub fn write_pem(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap_or_else(|e| panic!("write PEM file {}: {e}", path.display()));
    path
}

/// A temporary directory of PEM files, removed when dropped.
pub struct PkiFiles {
    /// The directory; it and everything in it are deleted on drop.
    pub dir: TempDir,
}

impl PkiFiles {
    /// A new, empty temporary directory.
    pub fn new() -> PkiFiles {
        let dir = tempfile::Builder::new()
            .prefix("testkit-pki-")
            .tempdir()
            .expect("create a temporary directory for PEM files");
        PkiFiles { dir }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `pem` to a file called `name` in the directory and return its path.
    pub fn write(&self, name: &str, pem: &str) -> PathBuf {
        write_pem(self.dir.path(), name, pem)
    }

    /// Write `issued`'s certificate and key as `<stem>.crt` and `<stem>.key`; returns
    /// `(cert_path, key_path)`.
    pub fn write_issued(&self, stem: &str, issued: &Issued) -> (PathBuf, PathBuf) {
        (
            self.write(&format!("{stem}.crt"), &issued.cert_pem),
            self.write(&format!("{stem}.key"), &issued.key_pem),
        )
    }
}

impl Default for PkiFiles {
    fn default() -> Self {
        PkiFiles::new()
    }
}
