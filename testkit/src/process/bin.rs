//! Finding the workspace's own binaries from inside a test executable.

use std::path::{Path, PathBuf};

/// Path of a workspace binary built by `cargo build --workspace --bins`, found next to the
/// test executable (current_exe is `target/<profile>/deps/<test>-<hash>`; binaries are in
/// `target/<profile>/`). Panics with a message naming the command to run if the file is missing.
pub fn workspace_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("find the path of the running test executable");
    let profile_dir =
        profile_dir(&exe).unwrap_or_else(|| panic!("{} has no parent directory", exe.display()));
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        let release = profile_dir.file_name().is_some_and(|p| p == "release");
        panic!(
            "workspace binary `{name}` not found at {}; build it first with `cargo build --workspace --bins{}`",
            path.display(),
            if release { " --release" } else { "" },
        );
    }
    path
}

/// `target/<profile>` for an executable in `target/<profile>/deps/` (tests) or directly in
/// `target/<profile>/`.
fn profile_dir(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    if dir
        .file_name()
        .is_some_and(|d| d == "deps" || d == "examples")
    {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_dir_strips_deps() {
        assert_eq!(
            profile_dir(Path::new("/w/target/debug/deps/t-123")),
            Some(PathBuf::from("/w/target/debug"))
        );
        assert_eq!(
            profile_dir(Path::new("/w/target/debug/proxy")),
            Some(PathBuf::from("/w/target/debug"))
        );
    }

    #[test]
    #[should_panic(expected = "cargo build --workspace --bins")]
    fn missing_binary_names_the_build_command() {
        workspace_bin("testkit-no-such-binary");
    }
}
