//! Server releases (#13): Express and Flask apps from real registries swap releases under a
//! steady load of 20 concurrent clients with no failed request, the replaced one shown as
//! draining and its runtime-log stream ending; a restart brings both apps back.

use crate::support::apps::{deploy_ready, project, runtime_until};
use crate::support::deploy::{Deployable, SseReader};
use crate::support::edge::{edge_client, fetch};
use crate::support::fixtures::{express_files, flask_files};
use crate::support::git::commit;
use crate::support::{Tenant, TestServer};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
