//! Server releases (#13, second part): Express and Flask apps from real registries swap
//! releases under a steady load of 20 concurrent clients with no failed request; an instance
//! killed with SIGKILL is restarted and counted; two instances share the requests; the
//! runtime-log stream shows a line a request caused, its secret masked; a restart brings both
//! apps back; after SIGTERM of the server nothing of any instance is left on the host; and the
//! workspace's memory limit refuses a deploy that would pass it.

use crate::support::deploy::{Deployable, SseReader};
use crate::support::edge::{edge_client, fetch};
use crate::support::git::commit;
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// An Express app answering the contents of `body.txt`, logging a line per `/log` request.
fn express_files(body: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "package.json",
            r#"{"name":"expressapp","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"express":"4.21.2"}}"#
                .to_owned(),
        ),
        (
            "server.js",
            "const express = require('express'); const fs = require('fs');\n\
             const body = fs.readFileSync('body.txt', 'utf8'); const me = Math.random().toString(36).slice(2);\n\
             const app = express();\n\
             app.get('/', (q, r) => r.send(body));\n\
             app.get('/whoami', (q, r) => r.send(me));\n\
             app.get('/log', (q, r) => { console.log('hit ' + q.query.n + ' key=' + process.env.API_KEY); r.send('logged'); });\n\
             app.listen(process.env.PORT, () => console.log('express listening on ' + process.env.PORT));\n"
                .to_owned(),
        ),
        ("body.txt", body.to_owned()),
    ]
}

/// A Flask app under gunicorn answering the contents of `body.txt`.
fn flask_files(body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n".to_owned()),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\nBODY = open('body.txt').read()\n\n\
             @app.get('/')\ndef index():\n    return BODY\n"
                .to_owned(),
        ),
        ("body.txt", body.to_owned()),
    ]
}

async fn project(
    server: &TestServer,
    ada: &Tenant,
    name: &str,
    kind: &str,
    files: &[(&str, String)],
    runtime: Value,
) -> Deployable {
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    ada.deployable(server, name, kind, &files, json!({ "runtime": runtime }))
        .await
}

async fn deploy_ready(ada: &Tenant, app: &Deployable) -> Value {
    let done = ada
        .finished(ada.deploy(app).await["id"].as_str().expect("id"), 400)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    done
}

/// What the clients of a load saw: bodies by count, and every failure.
#[derive(Default)]
struct Seen {
    bodies: HashMap<String, usize>,
    failures: Vec<String>,
}

/// 20 clients fetching `host` in a loop until `stop` (each bounded to 5 minutes).
fn load(server: &TestServer, host: &str, stop: &Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<Seen>> {
    (0..20)
        .map(|_| {
            let (url, host, stop) = (server.base.clone(), host.to_owned(), stop.clone());
            tokio::spawn(async move {
                let client = edge_client();
                let mut seen = Seen::default();
                let deadline = Instant::now() + Duration::from_secs(300);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match client.get(format!("{url}/")).header("host", &host).send().await {
                        Ok(r) if r.status() == 200 => {
                            let text = r.text().await.unwrap_or_else(|e| format!("<body error {e}>"));
                            *seen.bodies.entry(text).or_default() += 1;
                        }
                        Ok(r) => seen
                            .failures
                            .push(format!("{} {}", r.status(), r.text().await.unwrap_or_default())),
                        Err(e) => seen.failures.push(e.to_string()),
                    }
                }
                seen
            })
        })
        .collect()
}

/// Redeploys `app` with `new_body` while 20 clients fetch it; asserts none failed and that
/// they saw both bodies, then only the new one.
async fn swap_under_load(server: &TestServer, ada: &Tenant, app: &Deployable, file: &str, (old, new): (&str, &str)) {
    let host = ada.live_host_of(app).await;
    assert_eq!(fetch(server, &host, "/", &[]).await.text(), old);
    let stop = Arc::new(AtomicBool::new(false));
    let clients = load(server, &host, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    commit(&app.repo, &[(file, new)], "new body");
    deploy_ready(ada, app).await;
    // The replaced release's instance shows as draining while it finishes (2 s).
    let draining = runtime_until(ada, app, "a draining instance", |v| {
        v["instances"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["status"] == "draining"))
    })
    .await;
    assert!(
        draining["instances"]
            .as_array()
            .is_some_and(|i| i.iter().any(|i| i["status"] == "healthy")),
        "{draining}"
    );
    // Past the old release's drain (2 s) and its SIGTERM: the load keeps going meanwhile.
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Seen::default();
    for client in clients {
        let seen = client.await.expect("client task");
        for (body, n) in seen.bodies {
            *all.bodies.entry(body).or_default() += n;
        }
        all.failures.extend(seen.failures);
    }
    assert!(
        all.failures.is_empty(),
        "failed requests during the swap: {:?}",
        &all.failures[..all.failures.len().min(10)]
    );
    assert_eq!(
        all.bodies.len(),
        2,
        "only the two releases answered: {:?}",
        all.bodies.keys()
    );
    assert!(
        all.bodies.get(old).is_some_and(|n| *n > 0) && all.bodies.get(new).is_some_and(|n| *n > 0),
        "both bodies: {:?}",
        all.bodies
    );
    for _ in 0..5 {
        assert_eq!(fetch(server, &host, "/", &[]).await.text(), new);
    }
}

#[tokio::test]
async fn express_and_flask_swap_under_load_with_no_failed_request_and_come_back_after_a_restart() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let express = project(
        &server,
        &ada,
        "express",
        "node",
        &express_files("express v1"),
        json!({ "startCommand": "node server.js", "drainSeconds": 2 }),
    )
    .await;
    let flask = project(
        &server,
        &ada,
        "flask",
        "python",
        &flask_files("flask v1"),
        json!({ "startCommand": "gunicorn --bind 0.0.0.0:$PORT --workers 2 app:app", "drainSeconds": 2 }),
    )
    .await;
    let first = deploy_ready(&ada, &express).await;
    deploy_ready(&ada, &flask).await;
    let text = ada
        .runtime_log_text(first["releaseId"].as_str().expect("release"), |t| {
            t.contains("express listening")
        })
        .await;
    assert!(
        text.contains("express listening on 3000"),
        "Express's startup line: {text}"
    );

    swap_under_load(&server, &ada, &express, "body.txt", ("express v1", "express v2")).await;
    // The replaced release's runtime-log stream replays and ends: its instances have stopped.
    let mut old = SseReader::open(
        &ada.token,
        &format!(
            "/tenants/{}/releases/{}/runtime-logs/stream",
            ada.tenant_id,
            first["releaseId"].as_str().expect("release")
        ),
        None,
    )
    .await;
    let mut frames = Vec::new();
    while let Some(frame) = old.next().await {
        frames.push(frame.data);
    }
    assert!(
        frames
            .iter()
            .any(|f| f["line"].as_str().is_some_and(|l| l.contains("express listening"))),
        "{frames:?}"
    );
    assert_eq!(
        frames.last(),
        Some(&json!({ "type": "done", "status": "stopped" })),
        "{frames:?}"
    );
    swap_under_load(&server, &ada, &flask, "body.txt", ("flask v1", "flask v2")).await;

    // A restart brings both back without a build.
    let hosts = [ada.live_host_of(&express).await, ada.live_host_of(&flask).await];
    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    for (host, body) in hosts.iter().zip(["express v2", "flask v2"]) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let got = fetch(&restarted, host, "/", &[]).await;
            if got.status == 200 && got.text() == body {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{host} answers {} {:?} after the restart",
                got.status,
                got.text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Every process on the host whose cgroup or command line names `release`, by pid.
fn processes_of(release: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let read =
            |file: &str| std::fs::read(entry.path().join(file)).map(|b| String::from_utf8_lossy(&b).into_owned());
        let cgroup = read("cgroup").unwrap_or_default();
        let cmdline = read("cmdline").unwrap_or_default();
        if cgroup.contains(release) || cmdline.contains(release) {
            found.push(format!("{name}: {}", cmdline.replace('\0', " ")));
        }
    }
    found
}

/// Cgroup directories (at most 4 deep under /sys/fs/cgroup) whose name holds `release`, with
/// the processes still in them.
fn cgroups_of(release: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, depth: u32, release: &str, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if entry.file_name().to_string_lossy().contains(release) {
                let procs = std::fs::read_to_string(path.join("cgroup.procs")).unwrap_or_default();
                out.push((path.display().to_string(), procs));
            } else if depth < 4 {
                walk(&path, depth + 1, release, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), 0, release, &mut out);
    out
}

/// Polls the runtime view until `ok` holds of it (at most 60 s).
async fn runtime_until(ada: &Tenant, app: &Deployable, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = ada.runtime_view(app).await;
        if ok(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "{what}: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn two_instances_share_requests_a_killed_one_restarts_and_sigterm_leaves_nothing_behind() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let secret = "sk_live_stream_4b3a2c1d";
    ada.workspace_secret("API_KEY", secret).await;
    let app = project(
        &server,
        &ada,
        "pair",
        "node",
        &express_files("pair"),
        json!({ "startCommand": "node server.js", "instances": 2, "limits": { "memoryMb": 256 } }),
    )
    .await;
    let done = deploy_ready(&ada, &app).await;
    let release = done["releaseId"].as_str().expect("release").to_owned();
    let host = ada.live_host_of(&app).await;

    // Two instances, both healthy, and round robin spreads the requests over both.
    let view = runtime_until(&ada, &app, "two healthy instances", |v| {
        v["instances"]
            .as_array()
            .is_some_and(|i| i.len() == 2 && i.iter().all(|i| i["status"] == "healthy"))
    })
    .await;
    let mut who: HashMap<String, usize> = HashMap::new();
    for _ in 0..20 {
        let got = fetch(&server, &host, "/whoami", &[]).await;
        assert_eq!(got.status, 200);
        *who.entry(got.text()).or_default() += 1;
    }
    assert_eq!(who.len(), 2, "both instances answered: {who:?}");
    assert!(who.values().all(|n| *n >= 5), "spread over both: {who:?}");

    // The runtime-log stream shows a line this request causes, the secret masked in it.
    let mut stream = SseReader::open(
        &ada.token,
        &format!("/tenants/{}/releases/{release}/runtime-logs/stream", ada.tenant_id),
        None,
    )
    .await;
    let nonce = "n8c1f0e2";
    assert_eq!(
        fetch(&server, &host, &format!("/log?n={nonce}"), &[]).await.text(),
        "logged"
    );
    let line = loop {
        let frame = stream
            .next()
            .await
            .expect("the stream stays open while the release is live");
        if let Some(text) = frame.data["line"].as_str().filter(|t| t.contains(nonce)) {
            assert!(frame.id.is_some(), "log frames carry an id");
            break text.to_owned();
        }
    };
    assert!(
        line.contains("key=") && !line.contains(secret),
        "the secret is masked: {line}"
    );
    assert!(
        line.len() > format!("hit {nonce} key=").len(),
        "control: the app printed something for the key: {line}"
    );

    // SIGKILL of one instance's process: it is restarted, and counted.
    let pid = view["instances"][0]["pid"].as_u64().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let after = runtime_until(&ada, &app, "the killed instance restarted", |v| {
        let i = &v["instances"][0];
        i["restarts"] == 1 && i["status"] == "healthy" && i["pid"].as_u64().is_some_and(|p| p != pid)
    })
    .await;
    let reason = after["instances"][0]["lastExitReason"].as_str().unwrap_or_default();
    assert!(reason.contains("signal 9"), "the exit is explained: {after}");
    assert_eq!(
        after["instances"][1]["restarts"], 0,
        "the other instance kept running: {after}"
    );
    let logged = ada.runtime_log_text(&release, |t| t.contains("restarting in")).await;
    assert!(logged.contains("instance 1 was killed by signal 9"), "{logged}");
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "pair");

    // Positive control for the scans below: they find the running instances.
    assert!(
        processes_of(&release).len() >= 2,
        "the scan sees the instances: {:?}",
        processes_of(&release)
    );
    let groups = cgroups_of(&release);
    assert!(
        groups.iter().any(|(_, procs)| !procs.trim().is_empty()),
        "the scan sees their cgroups: {groups:?}"
    );

    // SIGTERM of the server stops every instance: no process is left, no cgroup holds one.
    assert!(server.terminate().success());
    let left = processes_of(&release);
    assert!(left.is_empty(), "processes left after SIGTERM: {left:?}");
    let groups = cgroups_of(&release);
    assert!(
        groups.iter().all(|(_, procs)| procs.trim().is_empty()),
        "cgroups still hold processes: {groups:?}"
    );
}

#[tokio::test]
async fn a_deploy_past_the_workspaces_memory_limit_is_refused_with_the_amount() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/admin/tenants/{}", ada.tenant_id);
    let bad = ada
        .session
        .patch(&path, &json!({ "memoryMbLimit": -1 }))
        .await
        .expect("patch");
    assert_eq!(bad.status, 400, "{}", bad.body);
    let set = ada
        .session
        .patch(&path, &json!({ "memoryMbLimit": 1000 }))
        .await
        .expect("patch");
    assert_eq!(
        (set.status, &set.body["memoryMbLimit"]),
        (200, &json!(1000)),
        "{}",
        set.body
    );

    let app = project(
        &server,
        &ada,
        "big",
        "node",
        &express_files("big"),
        json!({ "startCommand": "node server.js", "instances": 2, "limits": { "memoryMb": 512 } }),
    )
    .await;
    let deploy_path = format!(
        "/tenants/{}/projects/{}/environments/{}/deployments",
        ada.tenant_id, app.project_id, app.environment_id
    );
    let config_path = format!("/tenants/{}/projects/{}/runtime-config", ada.tenant_id, app.project_id);
    let refused = ada.token.post(&deploy_path, &json!({})).await.expect("deploy");
    assert_eq!(refused.status, 422, "{}", refused.body);
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("1024 MiB") && message.contains("24 MiB over") && message.contains("1000 MiB"),
        "{message}"
    );

    // Control: within the limit the same deploy is accepted (and canceled: its build is not
    // what this test is about).
    let fits = ada
        .token
        .patch(&config_path, &json!({ "instances": 1 }))
        .await
        .expect("runtime-config");
    assert_eq!(fits.status, 200, "{}", fits.body);
    let accepted = ada.token.post(&deploy_path, &json!({})).await.expect("deploy");
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let cancel = format!(
        "/tenants/{}/deployments/{}/cancel",
        ada.tenant_id,
        accepted.body["id"].as_str().expect("id")
    );
    let canceled = ada.token.post(&cancel, &json!({})).await.expect("cancel");
    assert!(matches!(canceled.status, 202 | 409), "{}", canceled.body);
    // With nothing running yet, a runtime config is checked as one environment's.
    let too_big = ada
        .token
        .patch(&config_path, &json!({ "limits": { "memoryMb": 2048 } }))
        .await
        .expect("runtime-config");
    assert_eq!(too_big.status, 422, "{}", too_big.body);
    assert!(
        too_big.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("1048 MiB over")),
        "{}",
        too_big.body
    );
    let too_many = ada
        .token
        .patch(&config_path, &json!({ "instances": 11 }))
        .await
        .expect("runtime-config");
    assert_eq!(too_many.status, 400, "instances is 1–10: {}", too_many.body);
}
