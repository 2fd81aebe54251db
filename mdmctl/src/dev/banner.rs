//! What `mdmctl dev` prints once the server runs: the URLs, the admin token, the CA file, and
//! the next commands to type, ready to copy.

use super::info::DevInfo;
use crate::table::Table;
use std::path::Path;

/// The text printed when everything is ready. `mdmctl` is how to call this mdmctl again and
/// `data_dir` the data directory as it was given.
pub fn ready(info: &DevInfo, mdmctl: &str, data_dir: &Path) -> String {
    let mut table = Table::without_header();
    let mut row = |key: &str, value: String| table.row([key.to_owned(), value]);
    row(
        "enrollment URL",
        format!(
            "{} (profile: /enroll/profile?token=, tokens: POST /v1/enrollment-tokens)",
            info.enrollment_url
        ),
    );
    row(
        "device URL",
        format!("{} (check-in {})", info.server_url, info.checkin_url),
    );
    row(
        "web console",
        format!(
            "{}/ (sign in with the admin token; the certificate is the CA file's)",
            info.admin_url
        ),
    );
    row("admin URL", info.admin_url.clone());
    row("admin token", info.admin_token.clone());
    row("CA file", info.ca_file.display().to_string());
    row("push topic", info.push_topic.clone());
    row("logs", info.logs_dir.display().to_string());
    row(
        "all of it",
        format!("{}", info.data_dir.join("dev.json").display()),
    );
    let indented: String = table
        .to_string()
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect();
    let data_dir_flag = if data_dir == Path::new(super::DEFAULT_DATA_DIR) {
        String::new()
    } else {
        format!(
            " --data-dir {}",
            shell_word(&data_dir.display().to_string())
        )
    };
    format!(
        "\nThe MDM server is running on this machine.\n\n{indented}\n\
         Enroll simulated devices and send them a command (in another terminal):\n  \
         {mdmctl} dev simulate{data_dir_flag}\n\n\
         Or keep simulated devices running, woken by their pushes:\n  \
         {devsim} run --dev-json {dev_json} --devices 20\n\n\
         Use the admin API with mdmctl:\n  \
         export MDM_URL={} MDM_TOKEN={} MDM_CA_FILE={}\n  \
         {mdmctl} devices list\n\n\
         Ctrl-C stops everything.\n",
        info.admin_url,
        info.admin_token,
        shell_word(&info.ca_file.display().to_string()),
        devsim = mdmctl.replace("mdmctl", "mdm-devsim"),
        dev_json = shell_word(&info.data_dir.join("dev.json").display().to_string()),
    )
}

/// `text` quoted for a POSIX shell when it needs to be.
fn shell_word(text: &str) -> String {
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain && !text.is_empty() {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// How to call this mdmctl again: relative to the working directory when it is under it
/// (`target/release/mdmctl`), else its full path, else plain `mdmctl`.
pub fn this_mdmctl() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "mdmctl".into();
    };
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| exe.strip_prefix(cwd).ok().map(Path::to_path_buf));
    match relative {
        Some(path) => shell_word(&path.display().to_string()),
        None => shell_word(&exe.display().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn everything_a_newcomer_needs_is_printed() {
        let info = DevInfo {
            data_dir: "/w/data/x y".into(),
            device_url: "https://127.0.0.1:8443".into(),
            server_url: "https://127.0.0.1:8443/mdm".into(),
            checkin_url: "https://127.0.0.1:8443/checkin".into(),
            enrollment_url: "https://127.0.0.1:8444".into(),
            admin_url: "https://127.0.0.1:9443".into(),
            admin_token: "mdmdev_secret".into(),
            ca_file: "/w/data/x y/pki/device-ca.pem".into(),
            device_ca_cert: "/w/data/x y/pki/device-ca.pem".into(),
            device_ca_key: "/w/data/x y/pki/device-ca.key".into(),
            device_ca_sha256: "00".into(),
            apple_device_ca_cert: "/w/data/x y/pki/apple-device-ca.pem".into(),
            apple_device_ca_key: "/w/data/x y/pki/apple-device-ca.key".into(),
            push_topic: "com.apple.mgmt.External.x".into(),
            mock_apns_url: "https://127.0.0.1:2197".into(),
            push_feed_url: "http://127.0.0.1:2198".into(),
            health_url: "http://127.0.0.1:1".into(),
            metrics_urls: BTreeMap::new(),
            logs_dir: "/w/data/x y/logs".into(),
            pids: BTreeMap::new(),
        };
        let text = ready(&info, "target/release/mdmctl", Path::new("data/x y"));
        for expected in [
            "enrollment URL  https://127.0.0.1:8444",
            "web console     https://127.0.0.1:9443/ (sign in with the admin token",
            "admin URL       https://127.0.0.1:9443",
            "admin token     mdmdev_secret",
            "target/release/mdmctl dev simulate --data-dir 'data/x y'",
            "MDM_CA_FILE='/w/data/x y/pki/device-ca.pem'",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        let default = ready(&info, "mdmctl", Path::new(super::super::DEFAULT_DATA_DIR));
        assert!(default.contains("mdmctl dev simulate\n"), "{default}");
    }
}
