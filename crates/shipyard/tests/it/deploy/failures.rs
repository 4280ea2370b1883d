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

/// Processes left in the build's own cgroups (its whole tree was placed there before exec;
/// groups live under `shipyard/<server instance>/<deployment>`).
fn build_processes(deployment: &str) -> usize {
    ["memory", "pids"]
        .iter()
        .flat_map(|ctl| {
            std::fs::read_dir(format!("/sys/fs/cgroup/{ctl}/shipyard"))
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter_map(|instance| {
            let group = instance.path().join(format!("{deployment}-attempt1"));
            std::fs::read_to_string(group.join("cgroup.procs")).ok()
        })
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
    let heartbeat = server.workspace(&busy.project_id, &id, 1).join("src/heartbeat");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !heartbeat.exists() {
        assert!(Instant::now() < deadline, "the build never started beating");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        build_processes(&id) >= 2,
        "positive control: the running build is visible in its cgroups"
    );
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

#[tokio::test]
async fn a_build_over_its_memory_limit_is_reported_as_such() {
    let server = TestServer::start(&["--build-memory", "64MiB"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let hog = ada
        .deployable(
            &server,
            "hog",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": "python3 -c 'x = bytearray(400 * 1024 * 1024); print(len(x))'", "outputDirectory": "." } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&hog).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(error.contains("ran out of memory (limit 64 MiB"), "{error}");
}

#[tokio::test]
async fn npm_ci_falls_back_to_npm_install_and_says_why() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // A lockfile that does not match package.json: npm ci refuses, npm install repairs it.
    let files = [
        (
            "package.json",
            r#"{"name":"lockless","version":"1.0.0","private":true,"scripts":{"build":"mkdir -p dist && echo ok > dist/index.html"},"dependencies":{"left-pad":"1.3.0"}}"#,
        ),
        (
            "package-lock.json",
            r#"{"name":"lockless","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"lockless","version":"1.0.0"}}}"#,
        ),
    ];
    let app = ada
        .deployable(&server, "lockless", "static", &files, json!({ "build": { "installCommand": "npm ci", "buildCommand": "npm run build", "outputDirectory": "dist" } }))
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let lines: Vec<String> = ada
        .log_lines(done["id"].as_str().expect("id"))
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    let fallback = lines
        .iter()
        .position(|l| l.starts_with("npm ci failed; falling back to npm install"))
        .unwrap_or_else(|| panic!("the fallback is logged: {lines:#?}"));
    assert_eq!(lines[fallback + 1], "$ npm install");
}

#[tokio::test]
async fn a_flood_of_output_is_stored_whole_and_long_lines_are_split() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let script = "seq 1 100000; head -c 40000 /dev/zero | tr '\\0' a; echo; mkdir -p dist; echo ok > dist/index.html";
    let app = ada
        .deployable(
            &server,
            "chatty",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": script, "outputDirectory": "dist" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let stdout: Vec<String> = ada
        .all_log_lines(done["id"].as_str().expect("id"), 10_000)
        .await
        .into_iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    let numbers: Vec<String> = (1..=100_000).map(|n| n.to_string()).collect();
    assert_eq!(stdout[..100_000], numbers[..], "every numbered line, in order");
    let long: Vec<&String> = stdout[100_000..].iter().collect();
    assert!(
        long.len() >= 3,
        "a 40 000-byte line is split into pieces of at most 16 KiB: {}",
        long.len()
    );
    assert!(long.iter().all(|l| l.len() <= 16 * 1024));
    assert_eq!(long.iter().map(|l| l.len()).sum::<usize>(), 40_000, "nothing dropped");
}

#[tokio::test]
async fn a_build_log_is_cut_at_50_mb_and_says_how_much_was_dropped() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // 60 MiB of output in lines of 10 000 bytes, then a normal end.
    let script =
        "head -c 62914560 /dev/zero | tr '\\0' a | fold -w 10000; echo; mkdir -p dist; echo ok > dist/index.html";
    let app = ada
        .deployable(
            &server,
            "flood",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": script, "outputDirectory": "dist" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 300)
        .await;
    assert_eq!(done["status"], "ready", "the build goes on past the cap: {done}");
    let lines = ada.all_log_lines(done["id"].as_str().expect("id"), 1000).await;
    // A stored line costs its text and its row (64 bytes, `logs::ROW_BYTES`), so that a flood
    // of empty lines is bounded too.
    const ROW: usize = 64;
    let stored: usize = lines
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["line"].as_str().unwrap_or_default().len() + ROW)
        .sum();
    const CAP: usize = 50 * 1024 * 1024;
    assert!(
        stored <= CAP && stored > CAP - 10_001 - ROW,
        "kept {stored} bytes of output and rows"
    );
    let system: Vec<&str> = lines
        .iter()
        .filter(|l| l["stream"] == "system")
        .filter_map(|l| l["line"].as_str())
        .collect();
    let summary = system
        .iter()
        .find(|l| l.contains("past the 50 MB limit were dropped"))
        .unwrap_or_else(|| panic!("no summary line in {system:?}"));
    // 62,914,560 bytes printed, 5,209 lines of 10,000 kept: 10,824,560 dropped.
    assert!(summary.contains("(10.3 MB)"), "{summary}");
    assert!(
        system.iter().any(|l| l.starts_with("Ready:")),
        "the platform's own lines still land after the cap: {system:?}"
    );
}
