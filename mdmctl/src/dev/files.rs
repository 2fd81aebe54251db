//! Writing the data directory's files: whole or not at all (a temporary file renamed into
//! place, so that a script polling for dev.json never reads half of it), and private files
//! (keys, tokens) readable by the owner only from the moment they exist.

use anyhow::Context;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Owner read/write only: keys, the admin token, dev.json.
pub const PRIVATE: u32 = 0o600;
/// Readable by everyone: certificates.
pub const PUBLIC: u32 = 0o644;

/// Writes `contents` to `path` with permissions `mode`, replacing it atomically.
pub fn write(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let mut temporary_name = name.to_os_string();
    temporary_name.push(format!(".tmp-{}", std::process::id()));
    let temporary = path.with_file_name(temporary_name);
    // The mode applies only when the file is created: a leftover of a crashed write must not
    // keep wider permissions.
    let _ = std::fs::remove_file(&temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        });
    let result = written
        .and_then(|()| std::fs::rename(&temporary, path))
        .with_context(|| format!("writing {}", path.display()));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Writes a private file (0600).
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write(path, contents, PRIVATE)
}

/// Writes a file everyone may read (0644).
pub fn write_public(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    write(path, contents, PUBLIC)
}

/// Creates `dir` and its parents, readable by the owner only (they hold keys and tokens).
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Reads a text file, saying which one when it cannot.
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn private_files_are_owner_only_and_replaced_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.pem");
        write_private(&path, b"first").expect("write");
        assert_eq!(mode(&path), PRIVATE);
        write_private(&path, b"second").expect("rewrite");
        assert_eq!(read_text(&path).expect("read"), "second");
        assert_eq!(mode(&path), PRIVATE);
        let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }

    #[test]
    fn public_files_are_world_readable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ca.pem");
        write_public(&path, b"cert").expect("write");
        assert_eq!(mode(&path) & 0o044, 0o044);
    }
}
