//! The config file written by `mdmctl config set`, then overridden by the environment and by
//! flags.

use super::ctl::Ctl;
use super::device::{Device, CAPTURE_UDID};
use crate::start;
use testkit::stack::ADMIN_TOKEN;
use testkit::Engine;

#[tokio::test]
async fn the_config_file_is_used_and_overridden_by_environment_then_flags() {
    let Some(stack) = start(Engine::Sqlite).await else {
        return;
    };
    let _device = Device::enroll(&stack, CAPTURE_UDID).await;
    let mut ctl = Ctl::bare();
    let ca = ctl.write_file("ca.pem", &stack.device_ca.cert_pem());
    ctl.run(&["config", "set", "url", &stack.admin_url])
        .await
        .expect_code(0);
    ctl.run(&["config", "set", "ca-file", &ca.display().to_string()])
        .await
        .expect_code(0);
    ctl.run_with_stdin(
        &["config", "set", "token", "-"],
        Some(&format!("{ADMIN_TOKEN}\n")),
    )
    .await
    .expect_code(0);

    let run = ctl.run(&["config", "show"]).await.expect_code(0);
    assert!(
        !run.stdout.contains(ADMIN_TOKEN),
        "the token is hidden:\n{}",
        run.stdout
    );
    let file = ctl.home().join(".config/mdmctl/config.toml");
    assert!(
        run.stdout.contains(&file.display().to_string()),
        "{}",
        run.stdout
    );

    let run = ctl.run(&["devices", "list"]).await.expect_code(0);
    assert!(run.stdout.contains(CAPTURE_UDID), "{}", run.stdout);
    ctl.set("MDM_TOKEN", "wrong");
    ctl.run(&["devices", "list"]).await.expect_code(1);
    let run = ctl.run(&["config", "show"]).await.expect_code(0);
    assert!(run.stdout.contains("env MDM_TOKEN"), "{}", run.stdout);
    ctl.run(&["devices", "list", "--token", ADMIN_TOKEN])
        .await
        .expect_code(0);
}
