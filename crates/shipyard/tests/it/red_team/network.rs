//! Red team, users and network (#11): what a build can reach (CONTRACT.md, "Who may connect
//! to whom"), who it runs as, who owns what it leaves, and a fork bomb. Every probe has a
//! positive control: the same probe succeeds where it should, so no test passes by breaking
//! its probe. Traffic goes only to listeners on this host that the test opened (and to the
//! npm registry, which builds install from); 169.254.0.0/16 is checked at the ruleset level
//! in `crates/shipyard-sandbox/tests/network_rules.rs`, never with traffic.

use crate::support::deploy::static_build;
use crate::support::fixtures::npm_app_files;
use crate::support::{KERNEL_NETWORK, PASTA_NETWORK, TestServer};
use serde_json::{Value, json};
use std::net::{IpAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A listener on `addr` that counts the connections it accepts.
fn counting_listener(addr: IpAddr) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((addr, 0)).expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (port, count)
}

/// The host's first global IPv4 address (not loopback).
fn host_address() -> IpAddr {
    let out = std::process::Command::new("ip")
        .args(["-o", "-4", "addr", "show", "scope", "global"])
        .output()
        .expect("ip addr");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next()?.parse().ok())
        .expect("this host has a global IPv4 address")
}

/// A node script that tries a TCP connection to each `name=host:port` and prints
/// `REACHED name` or `BLOCKED name`.
const PROBE: &str = r#"
const net = require('net');
const targets = process.argv.slice(2);
let left = targets.length;
for (const t of targets) {
  const [name, hostport] = t.split('=');
  const i = hostport.lastIndexOf(':');
  const s = net.connect({ host: hostport.slice(0, i), port: Number(hostport.slice(i + 1)), timeout: 8000 });
  const done = (word) => { console.log(`${word} ${name}`); s.destroy(); if (--left === 0) process.exit(0); };
  s.on('connect', () => done('REACHED'));
  s.on('timeout', () => done('BLOCKED'));
  s.on('error', () => done('BLOCKED'));
}
"#;

fn log_text(lines: &[Value]) -> String {
    lines
        .iter()
        .filter_map(|l| l["line"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn a_build_reaches_the_registry_but_not_the_hosts_loopback_its_api_or_its_addresses() {
    build_reaches_only_the_registry(KERNEL_NETWORK).await;
}

#[tokio::test]
async fn through_pasta_a_build_reaches_the_registry_but_not_the_hosts_loopback_its_api_or_its_addresses() {
    build_reaches_only_the_registry(PASTA_NETWORK).await;
}

/// The registry yes, the host's loopback, API and addresses no, on a server started with `flags`.
async fn build_reaches_only_the_registry(flags: &[&str]) {
    let server = TestServer::start(flags);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (loop_port, loop_hits) = counting_listener(IpAddr::from([127, 0, 0, 1]));
    let host = host_address();
    let (host_port, host_hits) = counting_listener(host);
    let api_port = server.base.rsplit(':').next().expect("port").to_owned();
    // Positive controls on the host: both listeners and the API accept from outside a sandbox.
    TcpStream::connect(("127.0.0.1", loop_port)).expect("loopback listener works");
    TcpStream::connect((host, host_port)).expect("host-address listener works");
    TcpStream::connect(format!("127.0.0.1:{api_port}")).expect("the API listens");
    let deadline = Instant::now() + Duration::from_secs(5);
    while (loop_hits.load(Ordering::SeqCst), host_hits.load(Ordering::SeqCst)) != (1, 1) {
        assert!(Instant::now() < deadline, "the listeners count their connections");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let targets = format!(
        "registry=registry.npmjs.org:443 loopback=127.0.0.1:{loop_port} api=127.0.0.1:{api_port} \
         api-by-name=localhost:{api_port} host-address={host}:{host_port}"
    );
    let mut files = npm_app_files();
    files.push(("probe.js", PROBE));
    let app = ada
        .deployable(
            &server,
            "netprobe",
            "node",
            &files,
            json!({ "build": { "buildCommand": format!("node probe.js {targets}") } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    // The install from the npm registry is the positive control for the whole network.
    assert_eq!(done["status"], "ready", "{done}");
    let text = log_text(&ada.log_lines(done["id"].as_str().expect("id")).await);
    assert!(
        text.contains("added 1 package"),
        "left-pad installed from the registry:\n{text}"
    );
    assert!(
        text.contains("REACHED registry"),
        "the probe works where it should:\n{text}"
    );
    for wall in ["loopback", "api", "api-by-name", "host-address"] {
        assert!(text.contains(&format!("BLOCKED {wall}")), "{wall} refused:\n{text}");
        assert!(!text.contains(&format!("REACHED {wall}")), "{wall} reached:\n{text}");
    }
    assert_eq!(
        (loop_hits.load(Ordering::SeqCst), host_hits.load(Ordering::SeqCst)),
        (1, 1),
        "no connection from the build arrived (only the test's own controls)"
    );
}

/// `uid=…` and the names three tools give for the build's user, from a build log.
fn identity_lines(text: &str) -> (u32, Vec<String>) {
    let uid = text
        .lines()
        .find_map(|l| l.strip_prefix("uid="))
        .and_then(|u| u.trim().parse().ok())
        .unwrap_or_else(|| panic!("a uid line in:\n{text}"));
    let names = ["whoami=", "node-user=", "python-user="]
        .iter()
        .map(|p| {
            text.lines()
                .find_map(|l| l.strip_prefix(p))
                .unwrap_or_else(|| panic!("{p} in:\n{text}"))
                .to_owned()
        })
        .collect();
    (uid, names)
}

const WHO: &str = "echo uid=$(id -u); echo whoami=$(whoami); \
    node -e 'console.log(\"node-user=\" + require(\"os\").userInfo().username)'; \
    python3 -c 'import getpass; print(\"python-user=\" + getpass.getuser())'; \
    mkdir -p dist && echo ok > dist/index.html";

#[tokio::test]
async fn every_project_builds_as_a_user_of_its_own_that_tools_can_name() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let mut uids = Vec::new();
    for name in ["one", "two"] {
        let app = ada
            .deployable(&server, name, "static", &[("index.html", "x")], static_build(WHO))
            .await;
        for _ in 0..2 {
            let done = ada
                .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
                .await;
            assert_eq!(done["status"], "ready", "{done}");
            let (uid, names) = identity_lines(&log_text(&ada.log_lines(done["id"].as_str().expect("id")).await));
            assert_eq!(names, ["app", "app", "app"], "id, node and python name the user");
            assert!(server.uid_range().contains(&uid), "from the configured range: {uid}");
            uids.push(uid);
        }
    }
    assert_eq!(uids[0], uids[1], "a project keeps its uid from build to build");
    assert_eq!(uids[2], uids[3]);
    assert_ne!(uids[0], uids[2], "two projects never share a uid");
}

/// Polls the deployment's log until a line equals `wanted`.
async fn wait_for_line(ada: &crate::support::Tenant, dep: &str, wanted: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let text = log_text(&ada.log_lines(dep).await);
        if text.lines().any(|l| l == wanted) {
            return text;
        }
        assert!(Instant::now() < deadline, "no `{wanted}` line in:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn what_a_build_leaves_in_its_workspace_and_cache_is_its_projects_alone() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let script = "echo uid=$(id -u); echo left > left.txt; echo cached > $HOME/.shipyard-cache/probe-file; \
                  echo READY; sleep 60";
    let app = ada
        .deployable(&server, "owner", "static", &[("index.html", "x")], static_build(script))
        .await;
    let dep = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    let text = wait_for_line(&ada, &dep, "READY").await;
    let uid: u32 = text
        .lines()
        .find_map(|l| l.strip_prefix("uid="))
        .and_then(|u| u.parse().ok())
        .expect("uid");
    let ws = server.workspace(&app.project_id, &dep, 1);
    let cache = server.build_disk(&app.project_id).join("cache");
    let owner_and_mode = |path: &Path| {
        let meta = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        (meta.uid(), meta.gid(), meta.mode() & 0o7777)
    };
    assert_eq!(owner_and_mode(&ws), (uid, uid, 0o700), "the workspace");
    assert_eq!(
        owner_and_mode(&ws.join("src/left.txt")).0,
        uid,
        "a file the build wrote"
    );
    assert_eq!(owner_and_mode(&cache.join("files")), (uid, uid, 0o700), "the cache");
    assert_eq!(owner_and_mode(&cache.join("files/probe-file")).0, uid);
    // Control: the check tells owners apart: the cache's parent is the server's.
    assert_eq!(
        owner_and_mode(&cache).0,
        0,
        "the cache root stays root's (its key file is written by the server)"
    );
    let canceled = ada
        .token
        .post(
            &format!("/tenants/{}/deployments/{dep}/cancel", ada.tenant_id),
            &json!({}),
        )
        .await
        .expect("cancel");
    assert!(canceled.status < 300, "{}", canceled.body);
    let done = ada.finished(&dep, 60).await;
    assert_eq!(done["status"], "canceled", "{done}");
}

#[tokio::test]
async fn a_fork_bomb_is_stopped_by_the_process_limit_and_the_build_says_so() {
    let server = TestServer::start(&["--build-pids", "64"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // Control: a build using a few processes under the same limit succeeds.
    let fine = ada
        .deployable(
            &server,
            "few",
            "static",
            &[("index.html", "x")],
            static_build(
                "for i in 1 2 3 4 5 6 7 8; do sleep 0.2 & done; wait; mkdir -p dist && echo ok > dist/index.html",
            ),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&fine).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");

    let bomb = ada
        .deployable(
            &server,
            "bomb",
            "static",
            &[("index.html", "x")],
            static_build("bomb() { bomb | bomb & }; bomb; sleep 120"),
        )
        .await;
    let started = Instant::now();
    let done = ada
        .finished(ada.deploy(&bomb).await["id"].as_str().expect("id"), 90)
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("more than 64 processes") && error.contains("--build-pids"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "stopped by the limit, not the build timeout"
    );
    // The server still answers.
    let me = ada.token.get("/auth/me").await.expect("request");
    assert_eq!(me.status, 200);
}

#[test]
fn serve_refuses_to_run_builds_without_limits_unless_insecure_and_names_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let empty = dir.path().join("no-cgroups");
    std::fs::create_dir(&empty).expect("mkdir");
    let out = crate::support::checks::refused_serve(
        &dir.path().join("data"),
        &["--cgroup-root", empty.to_str().expect("utf-8")],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no resource limits can be enforced") && stderr.contains("--insecure-no-sandbox"),
        "{stderr}"
    );
    // Control: the same directory with the insecure flag starts, and says what it lacks.
    let server = TestServer::start(&["--cgroup-root", empty.to_str().expect("utf-8"), "--insecure-no-sandbox"]);
    assert!(
        server.stdout().contains("NO memory or process limits"),
        "{}",
        server.stdout()
    );
}
