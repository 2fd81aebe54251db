//! The configuration files of docs/getting-started.md are accepted by the programs they
//! configure: each ```toml block that names its file in its first line (`# enroll-svc.toml`,
//! `# proxy.toml`, `# admin-svc.toml`) is written out, with its placeholders and paths pointed at
//! real test material, and checked by that program's `--check-config`. A key the guide gets
//! wrong, or one renamed later, fails here.
//!
//! Run: `cargo build --workspace --bins && cargo test -p mdmctl --test getting_started`.

use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::{workspace_bin, PkiFiles, TestCa};

const GUIDE: &str = include_str!("../../docs/getting-started.md");
const SECRET_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The guide's TOML blocks: (the file its first line names, the block).
fn toml_blocks() -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = GUIDE.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```toml" {
            continue;
        }
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        let Some(name) = body
            .first()
            .and_then(|first| first.trim().strip_prefix("# "))
            .and_then(|rest| rest.split_whitespace().next())
        else {
            continue;
        };
        blocks.push((name.trim_end_matches(',').to_owned(), body.join("\n")));
    }
    blocks
}

/// The block with its placeholders filled and its paths under `dir`, where the files exist.
fn localised(block: &str, dir: &Path) -> String {
    let dir = dir.display().to_string();
    block
        .replace("/etc/mdm/tls", &dir)
        .replace("/var/lib/mdm", &dir)
        .replace("<uuid>", "00000000-1111-2222-3333-444444444444")
        .replace("<the hex>", &"ab".repeat(32))
}

fn check_config(program: &str, file: &Path, env: &[(&str, &str)]) {
    let output = Command::new(workspace_bin(program))
        .args(["--check-config", "--config"])
        .arg(file)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        output.status.success(),
        "{program} refuses the guide's {}:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_guides_configuration_files_are_accepted() {
    let blocks = toml_blocks();
    let names: Vec<&str> = blocks.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["enroll-svc.toml", "proxy.toml", "admin-svc.toml"] {
        assert!(
            names.contains(&expected),
            "the guide shows {expected}: {names:?}"
        );
    }
    // The certificate and key of the server's host, the private root, and the identity CA
    // enroll-svc would have written.
    let pki = PkiFiles::new();
    let root = TestCa::new("Private root");
    let server = root.issue_server(&["mdm.example.com"]);
    pki.write("fullchain.pem", &server.cert_pem);
    pki.write("privkey.pem", &server.key_pem);
    pki.write("private-root.pem", &root.cert_pem());
    pki.write(
        "identity-ca.pem",
        &TestCa::new("Device identity CA").cert_pem(),
    );
    let data = tempfile::tempdir().expect("a data directory");
    let mut enroll = String::new();
    for (name, block) in &blocks {
        let text = localised(block, pki.path());
        if name == "enroll-svc.toml" {
            // The set-up B block adds to the main one.
            enroll = if enroll.is_empty() {
                text
            } else {
                merge_enrollment(&enroll, &text)
            };
            continue;
        }
        let file: PathBuf = pki.write(name, &text);
        match name.as_str() {
            "proxy.toml" => check_config("proxy", &file, &[]),
            "admin-svc.toml" => check_config(
                "admin-svc",
                &file,
                &[("MDM_ADMIN_DATA_DIR", &data.path().display().to_string())],
            ),
            other => panic!("a block for {other}, which this test does not know"),
        }
    }
    let file = pki.write("enroll-svc.toml", &enroll);
    check_config(
        "enroll-svc",
        &file,
        &[
            ("MDM_ENROLL_SECRET_KEY", SECRET_KEY),
            ("MDM_ENROLL_DATA_DIR", &data.path().display().to_string()),
        ],
    );
}

/// `main` with the lines of `addition`'s `[enrollment]` section added to its own.
fn merge_enrollment(main: &str, addition: &str) -> String {
    let added: Vec<&str> = addition
        .lines()
        .skip_while(|l| l.trim() != "[enrollment]")
        .skip(1)
        .collect();
    let mut merged = Vec::new();
    for line in main.lines() {
        merged.push(line.to_owned());
        if line.trim() == "[enrollment]" {
            merged.extend(added.iter().map(|l| (*l).to_owned()));
        }
    }
    merged.join("\n")
}
