//! The process helpers against real processes: `/bin/sh` scripts and loopback sockets.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

fn sh(script: &str) -> Vec<String> {
    vec!["-c".to_owned(), script.to_owned()]
}

async fn spawn_sh(name: &str, script: &str) -> anyhow::Result<ChildProcess> {
    ChildProcess::spawn(name, Path::new("/bin/sh"), &sh(script), &[]).await
}

#[test]
fn free_port_is_bindable() -> anyhow::Result<()> {
    let port = free_port();
    assert_ne!(port, 0);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    assert_eq!(listener.local_addr()?.port(), port);
    Ok(())
}

#[test]
fn free_ports_are_distinct_and_never_where_port_zero_binds_land() -> anyhow::Result<()> {
    let ports: std::collections::BTreeSet<u16> = (0..200).map(|_| free_port()).collect();
    assert_eq!(ports.len(), 200, "no port answered twice");
    // What a service binding port 0 gets: never one of ours.
    for _ in 0..50 {
        let ephemeral = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        assert!(
            ports.iter().all(|p| *p < ephemeral),
            "{ephemeral} among {ports:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn finds_ready_and_terminates_quickly() -> anyhow::Result<()> {
    let mut child = spawn_sh("sh-ready", "echo ready; exec sleep 30").await?;
    let line = child
        .wait_for_line("ready", Duration::from_secs(10))
        .await?;
    assert_eq!(line, "ready");
    assert!(
        child.try_status().is_none(),
        "child should still be sleeping"
    );

    let started = Instant::now();
    let status = child.terminate(Duration::from_secs(5)).await?;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(!status.success());
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "{status}");
    // A second terminate just reports the status.
    assert_eq!(child.terminate(Duration::from_secs(1)).await?, status);
    Ok(())
}

#[tokio::test]
async fn terminate_kills_a_child_that_ignores_sigterm() -> anyhow::Result<()> {
    let mut child = spawn_sh(
        "sh-stubborn",
        "trap '' TERM; echo trapped; while :; do sleep 1; done",
    )
    .await?;
    child
        .wait_for_line("trapped", Duration::from_secs(10))
        .await?;
    let err = child
        .terminate(Duration::from_millis(300))
        .await
        .expect_err("the child ignores SIGTERM");
    let msg = format!("{err:#}");
    assert!(msg.contains("did not exit"), "{msg}");
    assert!(msg.contains("trapped"), "logs missing from: {msg}");
    assert!(
        child.try_status().is_some(),
        "the child was killed and reaped"
    );
    Ok(())
}

#[tokio::test]
async fn wait_for_line_times_out_with_a_clear_error() -> anyhow::Result<()> {
    let child = spawn_sh("sh-quiet", "echo hello; exec sleep 30").await?;
    let started = Instant::now();
    let err = child
        .wait_for_line("never printed", Duration::from_millis(300))
        .await
        .expect_err("the line never comes");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(3));
    let msg = format!("{err:#}");
    assert!(msg.contains("timed out"), "{msg}");
    assert!(msg.contains("\"never printed\""), "{msg}");
    assert!(msg.contains("still running"), "{msg}");
    assert!(msg.contains("hello"), "logs missing from: {msg}");
    Ok(())
}

#[tokio::test]
async fn wait_for_line_fails_fast_when_the_child_exits() -> anyhow::Result<()> {
    let child = spawn_sh("sh-exit", "echo bye; exit 3").await?;
    let started = Instant::now();
    let err = child
        .wait_for_line("ready", Duration::from_secs(30))
        .await
        .expect_err("the child exits without the line");
    assert!(started.elapsed() < Duration::from_secs(5));
    let msg = format!("{err:#}");
    assert!(msg.contains("exited"), "{msg}");
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(msg.contains("bye"), "{msg}");
    Ok(())
}

#[tokio::test]
async fn captures_stderr_and_late_lines() -> anyhow::Result<()> {
    let child = spawn_sh(
        "sh-stderr",
        "echo first; sleep 0.2; echo oops >&2; exec sleep 30",
    )
    .await?;
    let line = child.wait_for_line("oops", Duration::from_secs(10)).await?;
    assert_eq!(line, "oops");
    let logs = child.logs();
    assert!(
        logs.contains("first\n") && logs.contains("oops\n"),
        "{logs}"
    );
    Ok(())
}

#[tokio::test]
async fn env_is_given_and_mdm_vars_are_not_inherited() -> anyhow::Result<()> {
    // Edition 2021: set_var is safe; the name is unique to this test.
    std::env::set_var("MDM_TESTKIT_LEAK_CHECK", "leaked");
    let child = ChildProcess::spawn(
        "sh-env",
        Path::new("/bin/sh"),
        &sh("echo \"leak=${MDM_TESTKIT_LEAK_CHECK:-none} given=$MDM_GIVEN path=${PATH:+set}\""),
        &[("MDM_GIVEN".to_owned(), "yes".to_owned())],
    )
    .await?;
    let line = child
        .wait_for_line("leak=", Duration::from_secs(10))
        .await?;
    std::env::remove_var("MDM_TESTKIT_LEAK_CHECK");
    assert_eq!(line, "leak=none given=yes path=set");
    Ok(())
}

#[tokio::test]
async fn drop_kills_and_reaps_the_child() -> anyhow::Result<()> {
    let child = spawn_sh("sh-drop", "echo up; exec sleep 30").await?;
    child.wait_for_line("up", Duration::from_secs(10)).await?;
    let proc_dir = format!("/proc/{}", child.id());
    assert!(Path::new(&proc_dir).exists());
    drop(child);
    assert!(
        !Path::new(&proc_dir).exists(),
        "{proc_dir} still exists after drop"
    );
    Ok(())
}

#[tokio::test]
async fn kill_stops_the_child_now() -> anyhow::Result<()> {
    let mut child = spawn_sh("sh-kill", "echo up; exec sleep 30").await?;
    child.wait_for_line("up", Duration::from_secs(10)).await?;
    child.kill();
    use std::os::unix::process::ExitStatusExt;
    let status = child.try_status().expect("killed child is reaped");
    assert_eq!(status.signal(), Some(9));
    Ok(())
}

#[tokio::test]
async fn spawn_of_a_missing_binary_is_an_error() {
    let result = ChildProcess::spawn("missing", Path::new("/nonexistent/bin"), &[], &[]).await;
    let err = result.err().expect("no such binary");
    assert!(format!("{err:#}").contains("/nonexistent/bin"), "{err:#}");
}

#[tokio::test]
async fn wait_for_tcp_sees_a_listener_and_times_out_without_one() -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    wait_for_tcp(listener.local_addr()?, Duration::from_secs(5)).await?;

    let nobody = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let started = Instant::now();
    let err = wait_for_tcp(nobody, Duration::from_millis(200))
        .await
        .expect_err("nothing listens there");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(format!("{err:#}").contains(&nobody.to_string()), "{err:#}");
    Ok(())
}

#[tokio::test]
async fn wait_for_tcp_sees_a_late_listener() -> anyhow::Result<()> {
    let port = free_port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let _ = listener.accept().await;
        anyhow::Ok(())
    });
    wait_for_tcp(addr, Duration::from_secs(5)).await?;
    late.await??;
    Ok(())
}

#[tokio::test]
async fn eventually_returns_the_value_or_names_what_it_waited_for() -> anyhow::Result<()> {
    let mut calls = 0;
    let value = eventually(Duration::from_secs(5), "three calls", || {
        calls += 1;
        let n = calls;
        async move { (n >= 3).then_some(n * 10) }
    })
    .await?;
    assert_eq!(value, 30);

    let err = eventually(
        Duration::from_millis(100),
        "the moon to turn blue",
        || async { None::<()> },
    )
    .await
    .expect_err("never ready");
    assert!(format!("{err}").contains("the moon to turn blue"), "{err}");
    Ok(())
}
