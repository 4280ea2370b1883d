//! Builds that fail, time out or are canceled end with one sentence naming the step, the
//! command and its exit code or reason, and the failing output is in the log.

use crate::support::TestServer;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn node_app(scripts: Value) -> String {
    json!({ "name": "app", "private": true, "scripts": scripts }).to_string()
}

#[tokio::test]
async fn failing_install_build_and_missing_output_are_explained() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;

    let install = ada
        .deployable(
            &server,
            "badinstall",
            "node",
            &[
                ("package.json", &node_app(json!({ "start": "node x.js" }))),
                ("x.js", ""),
            ],
            json!({ "build": { "installCommand": "echo resolving left-pad-that-does-not-exist >&2; exit 7" } }),
        )
        .await;
    let dep = ada.deploy(&install).await;
    let done = ada.finished(dep["id"].as_str().expect("id"), 60).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(
        done["error"],
        "install command `echo resolving left-pad-that-does-not-exist >&2; exit 7` exited with code 7"
    );
    let lines = ada.log_lines(dep["id"].as_str().expect("id")).await;
    assert!(
        lines
            .iter()
            .any(|l| l["stream"] == "stderr" && l["line"] == "resolving left-pad-that-does-not-exist")
    );
    assert!(lines.last().is_some_and(|l| {
        l["line"]
            .as_str()
            .is_some_and(|t| t.starts_with("failed: install command"))
    }));

    let build = ada
        .deployable(&server, "badbuild", "static", &[("index.html", "x")],
            json!({ "build": { "buildCommand": "echo compiling; echo 'SyntaxError: boom' >&2; exit 2", "outputDirectory": "dist" } }))
        .await;
    let done = ada
        .finished(ada.deploy(&build).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(
        done["error"],
        "build command `echo compiling; echo 'SyntaxError: boom' >&2; exit 2` exited with code 2"
    );

    let missing = ada
        .deployable(
            &server,
            "nooutput",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": "echo built nothing", "outputDirectory": "dist" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&missing).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["error"], "output directory `dist` does not exist after the build");

    let empty = ada
        .deployable(
            &server,
            "emptyoutput",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": "mkdir -p dist", "outputDirectory": "dist" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&empty).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["error"], "output directory `dist` is empty after the build");

    let node = ada
        .deployable(
            &server,
            "oldnode",
            "node",
            &[
                ("package.json", &node_app(json!({ "start": "node x.js" }))),
                ("x.js", ""),
            ],
            json!({ "build": { "nodeVersion": "12" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&node).await["id"].as_str().expect("id"), 60)
        .await;
    let error = done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("Node.js 12 is required") && error.contains("this host provides v"),
        "{error}"
    );
}

#[tokio::test]
async fn a_build_past_its_time_limit_is_stopped() {
    let server = TestServer::start(&["--build-timeout", "3s"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let slow = ada
        .deployable(
            &server,
            "slow",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": "echo start; sleep 60; mkdir dist", "outputDirectory": "dist" } }),
        )
        .await;
    let started = Instant::now();
    let done = ada
        .finished(ada.deploy(&slow).await["id"].as_str().expect("id"), 30)
        .await;
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(error.contains("ran past its 3 s time limit"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "stopped promptly: {:?}",
        started.elapsed()
    );
}

/// Processes left in the build's own cgroups (its whole tree was placed there before exec).
fn build_processes(deployment: &str) -> usize {
    ["memory", "pids"]
        .iter()
        .map(|ctl| format!("/sys/fs/cgroup/{ctl}/shipyard/{deployment}/cgroup.procs"))
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|procs| procs.lines().filter(|l| !l.trim().is_empty()).count())
        .sum()
}

#[tokio::test]
async fn cancel_ends_the_whole_build_tree() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // A background child keeps touching a heartbeat file in the workspace; the foreground waits.
    let script = "(while true; do date +%s%N > heartbeat; sleep 0.05; done) & echo beating; wait";
    let busy = ada
        .deployable(
            &server,
            "busy",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": script, "outputDirectory": "." } }),
        )
        .await;
    let id = ada.deploy(&busy).await["id"].as_str().expect("id").to_owned();
    let heartbeat = server.data_dir().join("builds").join(&id).join("src/heartbeat");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !heartbeat.exists() {
        assert!(Instant::now() < deadline, "the build never started beating");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(build_processes(&id) >= 2, "positive control: the running build is visible in its cgroups");
    let cancel = ada
        .token
        .post(
            &format!("/tenants/{}/deployments/{id}/cancel", ada.tenant_id),
            &json!({}),
        )
        .await
        .expect("request");
    assert_eq!(cancel.status, 202, "{}", cancel.body);
    let asked = Instant::now();
    let done = ada.finished(&id, 10).await;
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("canceled"), Some("canceled by a user"))
    );
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "canceled within 5 s: {:?}",
        asked.elapsed()
    );
    // Nothing of the build is left running: the heartbeat stops and no build process remains.
    let before = std::fs::read(&heartbeat).ok();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        std::fs::read(&heartbeat).ok(),
        before,
        "the heartbeat file was touched after the cancel"
    );
    assert_eq!(build_processes(&id), 0, "a build process survived the cancel");
    let again = ada
        .token
        .post(
            &format!("/tenants/{}/deployments/{id}/cancel", ada.tenant_id),
            &json!({}),
        )
        .await
        .expect("request");
    crate::support::assert_error(&again, 409);
}
