use super::file::ConfigFile;
use super::*;

fn file_layer() -> Layer {
    Layer {
        url: Some("https://file.example:9443".into()),
        token: Some("file-token".into()),
        ca_file: Some("/etc/file-ca.pem".into()),
    }
}

const FILE: &str = "/home/u/.config/mdmctl/config.toml";

#[test]
fn flags_beat_environment_beat_file() {
    let env = Env::from_pairs([
        ("MDM_URL", "https://env.example"),
        ("MDM_TOKEN", "env-token"),
    ]);
    let flags = Layer {
        url: Some("https://flag.example".into()),
        ..Layer::default()
    };
    let resolved = resolve(&flags, &env, &file_layer(), Path::new(FILE));
    let url = resolved.url.expect("url");
    assert_eq!(
        (url.value.as_str(), url.source),
        ("https://flag.example", Source::Flag("--url"))
    );
    let token = resolved.token.expect("token");
    assert_eq!(
        (token.value.as_str(), token.source),
        ("env-token", Source::Env("MDM_TOKEN"))
    );
    let ca = resolved.ca_file.expect("ca");
    assert_eq!(ca.value, PathBuf::from("/etc/file-ca.pem"));
    assert_eq!(ca.source, Source::File(PathBuf::from(FILE)));
}

#[test]
fn an_empty_variable_does_not_hide_the_file() {
    let env = Env::from_pairs([("MDM_TOKEN", ""), ("MDM_CA_FILE", "  ")]);
    let resolved = resolve(&Layer::default(), &env, &file_layer(), Path::new(FILE));
    assert_eq!(resolved.token.expect("token").value, "file-token");
    assert_eq!(
        resolved.ca_file.expect("ca").value,
        PathBuf::from("/etc/file-ca.pem")
    );
}

#[test]
fn nothing_anywhere_is_a_usage_error_with_a_hint() {
    let resolved = resolve(
        &Layer::default(),
        &Env::default(),
        &Layer::default(),
        Path::new(FILE),
    );
    assert_eq!(resolved, Resolved::default());
    let error = resolved.connection().expect_err("no URL");
    assert!(error.hint.as_deref().is_some_and(|h| h.contains("MDM_URL")));

    let only_url = Layer {
        url: Some("https://mdm.example".into()),
        ..Layer::default()
    };
    let resolved = resolve(
        &only_url,
        &Env::default(),
        &Layer::default(),
        Path::new(FILE),
    );
    let error = resolved.connection().expect_err("no token");
    assert!(error
        .hint
        .as_deref()
        .is_some_and(|h| h.contains("MDM_TOKEN")));
}

#[test]
fn the_url_must_be_http_or_https() {
    for bad in ["mdm.example.com:9443", "ftp://mdm.example", "not a url"] {
        assert!(parse_url(bad).is_err(), "{bad}");
    }
    assert_eq!(
        parse_url("https://mdm.example:9443").expect("valid").port(),
        Some(9443)
    );
}

#[test]
fn the_file_location_follows_flag_env_xdg_home() {
    let env = Env::from_pairs([
        ("MDM_CONFIG", "/env/c.toml"),
        ("XDG_CONFIG_HOME", "/xdg"),
        ("HOME", "/home/u"),
    ]);
    assert_eq!(
        config_path(Some(Path::new("/flag.toml")), &env),
        Some(PathBuf::from("/flag.toml"))
    );
    assert_eq!(config_path(None, &env), Some(PathBuf::from("/env/c.toml")));
    let env = Env::from_pairs([("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/u")]);
    assert_eq!(
        config_path(None, &env),
        Some(PathBuf::from("/xdg/mdmctl/config.toml"))
    );
    let env = Env::from_pairs([("HOME", "/home/u")]);
    assert_eq!(config_path(None, &env), Some(PathBuf::from(FILE)));
    assert_eq!(config_path(None, &Env::default()), None);
}

#[test]
fn the_file_rejects_unknown_keys_and_round_trips() {
    let path = Path::new("c.toml");
    assert!(ConfigFile::parse("tokn = \"x\"\n", path).is_err());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub").join("config.toml");
    assert_eq!(
        ConfigFile::load(&path).expect("missing is empty"),
        ConfigFile::default()
    );
    let file = ConfigFile {
        url: Some("https://mdm.example".into()),
        token: Some("t".into()),
        ca_file: None,
    };
    file.save(&path).expect("saved");
    assert_eq!(ConfigFile::load(&path).expect("loads"), file);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o077, 0, "the token file is private: {mode:o}");
    }
}
