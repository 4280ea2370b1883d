//! How a waiting `deploy` reads to whoever watches it: on a terminal a redrawn status line
//! (spinner, colour), in CI plain `==> status` lines; and across a cut stream, every build
//! line once; Ctrl-C stops the waiting, not the deployment.

use crate::support::cli::{CuttingProxy, Shell, logged_in, run};
use crate::support::deploy::static_build;
use crate::support::{TestServer, binary};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The spinner's frames.
const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Runs `shipyard deploy --project web` under a pseudo-terminal (util-linux `script`), with
/// `envs` set (and `CI`, `NO_COLOR` unset otherwise); everything the terminal received, and
/// the exit code.
async fn deploy_on_a_terminal(shell: &Shell, envs: &[(&str, &str)]) -> (i32, String) {
    let mut command = tokio::process::Command::new("script");
    command
        .args(["-qefc", &format!("'{}' deploy --project web", binary()), "/dev/null"])
        .current_dir(shell.cwd.path())
        .env("SHIPYARD_CONFIG_DIR", shell.config.path())
        .env_remove("SHIPYARD_TOKEN")
        .env_remove("SHIPYARD_URL")
        .env_remove("NO_COLOR")
        .env_remove("CI")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    command.envs(envs.iter().copied());
    let output = tokio::time::timeout(Duration::from_secs(300), command.output())
        .await
        .expect("deploy on a terminal within 300 s")
        .expect("run script");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn a_terminal_sees_a_status_line_and_ci_sees_plain_lines() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    ada.deployable(
        &server,
        "web",
        "static",
        &[("README.md", "hello")],
        static_build("echo step-one && sleep 1 && mkdir -p dist && echo body > dist/index.html"),
    )
    .await;
    let shell = logged_in(&server, &ada).await;

    let (code, seen) = deploy_on_a_terminal(&shell, &[]).await;
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("step-one"), "the log streams: {seen:?}");
    assert!(
        seen.contains("\r\x1b[2K"),
        "the status line is redrawn in place: {seen:?}"
    );
    let spun = SPINNER
        .iter()
        .any(|glyph| seen.contains(&format!("{glyph} \x1b[36mbuilding\x1b[0m ·")));
    assert!(spun, "spinner and coloured status: {seen:?}");
    assert!(!seen.contains("==> "), "{seen:?}");
    assert!(seen.contains("http://web-production.acme."), "the URL: {seen:?}");

    let (code, seen) = deploy_on_a_terminal(&shell, &[("NO_COLOR", "1")]).await;
    assert_eq!(code, 0, "{seen}");
    assert!(
        seen.contains("\r\x1b[2K") && !seen.contains("\x1b[36m"),
        "no colour: {seen:?}"
    );

    // Control: the same terminal with CI set gets no escape sequence at all.
    let (code, seen) = deploy_on_a_terminal(&shell, &[("CI", "true")]).await;
    assert_eq!(code, 0, "{seen}");
    assert!(seen.contains("==> building"), "{seen:?}");
    assert!(seen.contains("step-one"), "{seen:?}");
    assert!(!seen.contains('\x1b'), "no colour or redraw in CI: {seen:?}");
}

#[tokio::test]
async fn deploy_streams_every_build_line_once_across_a_cut_stream() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    ada.deployable(
        &server,
        "chatty",
        "static",
        &[("README.md", "hello")],
        static_build("mkdir -p dist && echo ok > dist/index.html && for i in $(seq 1 400); do echo line-$i; done"),
    )
    .await;
    let proxy = CuttingProxy::start(&server.base, 20_000).await;
    let shell = Shell::new();
    let deployed = run(
        shell.config.path(),
        shell.cwd.path(),
        &["deploy", "--project", "chatty", "--server", &proxy.base],
        "",
        &[("SHIPYARD_TOKEN", &ada.token_secret)],
    )
    .await;
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    assert!(proxy.cut.load(Ordering::SeqCst), "the proxy cut a connection once");
    let numbered: Vec<&str> = deployed.stderr.lines().filter(|l| l.starts_with("line-")).collect();
    let expected: Vec<String> = (1..=400).map(|i| format!("line-{i}")).collect();
    assert_eq!(numbered, expected, "every build line once, in order");
    assert!(
        deployed.stdout.trim().starts_with("http://chatty-production.acme."),
        "{}",
        deployed.stdout
    );
}

#[tokio::test]
async fn ctrl_c_stops_waiting_and_the_deployment_goes_on() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "slow",
            "static",
            &[("README.md", "hello")],
            static_build("echo started && sleep 6 && mkdir -p dist && echo late > dist/index.html"),
        )
        .await;
    let shell = Shell::new();
    let child = tokio::process::Command::new(binary())
        .args(["deploy", "--project", "slow", "--server", &server.base])
        .current_dir(shell.cwd.path())
        .env("SHIPYARD_CONFIG_DIR", shell.config.path())
        .env("SHIPYARD_TOKEN", &ada.token_secret)
        .env("CI", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn deploy");
    let list = format!("/tenants/{}/projects/{}/deployments", ada.tenant_id, app.project_id);
    let mut id = None;
    for _ in 0..300 {
        let page = ada.token.get(&list).await.expect("list").ok().expect("deployments");
        if let Some(found) = page["items"][0]["id"].as_str() {
            id = Some(found.to_owned());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = id.expect("the client made a deployment within 30 s");
    ada.wait_for(&id, 60, |s| s == "building").await;
    let pid = child.id().expect("pid").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the client stops within 30 s of Ctrl-C")
        .expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "Ctrl-C is giving up waiting: {stderr}");
    assert!(stderr.contains("goes on"), "{stderr}");
    let done = ada.finished(&id, 120).await;
    assert_eq!(done["status"], "ready", "the deployment was not canceled: {done}");
}
