//! The go-live watch (#14): a release that serves, then crash-loops a few seconds after going
//! live is rolled back to the previous release automatically (the deployment `ready → failed`
//! with an `auto_rollback` event); as a first release it fails with "no earlier release"; a
//! release made by a rollback is never rolled back automatically.

use crate::support::edge::fetch;
use crate::support::git::commit;
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Serves `body`; its first process exits 4 s after it started listening, and every later one
/// (a restart: its HOME kept the marker) at once: a crash loop that starts after go-live.
fn crashing_js(body: &str) -> String {
    format!(
        "const fs = require('fs'); const marker = require('path').join(process.env.HOME, 'started');\n\
         if (fs.existsSync(marker)) {{ console.error('crashing at start'); process.exit(3); }}\n\
         fs.writeFileSync(marker, '1');\n\
         require('http').createServer((q, r) => r.end('{body}')).listen(process.env.PORT);\n\
         setTimeout(() => {{ console.error('crashing after go-live'); process.exit(3); }}, 4000);\n"
    )
}

/// Polls deployment `id` until its status is `status` (at most 90 s).
async fn deployment_becomes(ada: &Tenant, id: &str, status: &str) -> Value {
    let path = format!("/tenants/{}/deployments/{id}", ada.tenant_id);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let view = ada.token.get(&path).await.expect("deployment").body;
        if view["status"] == status {
            return view;
        }
        assert!(Instant::now() < deadline, "deployment not {status}: {view}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn event_types(view: &Value) -> Vec<String> {
    view["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["type"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_crash_loop_after_go_live_rolls_back_and_a_first_release_fails_with_no_earlier_release() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let server_js =
        |body: &str| format!("require('http').createServer((q, r) => r.end('{body}')).listen(process.env.PORT);\n");
    let (good, crashing) = (server_js("v1 serves"), crashing_js("lone serves"));
    let ((app, first), (lone, lone_first)) = tokio::join!(
        ada.node_app_ready(&server, "watched", &good, json!({})),
        ada.node_app_ready(&server, "lone", &crashing, json!({})),
    );
    let host = ada.live_host_of(&app).await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "v1 serves");

    // v2 passes its health check and goes live, then crash-loops: back to v1, no rebuild.
    commit(
        &app.repo,
        &[("server.js", crashing_js("v2 serves").as_str())],
        "v2 crashes later",
    );
    let second = ada.deploy(&app).await;
    let second_id = second["id"].as_str().expect("id");
    let ready = ada.finished(second_id, 240).await;
    assert_eq!(ready["status"], "ready", "ready as soon as the swap is done: {ready}");
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "v2 serves");
    let failed = deployment_becomes(&ada, second_id, "failed").await;
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("instances crash-looped 5 times within ")
            && error.ends_with(" s of going live; rolled back to v1"),
        "{failed}"
    );
    assert!(event_types(&failed).contains(&"auto_rollback".to_owned()), "{failed}");
    assert_eq!(
        fetch(&server, &host, "/", &[]).await.text(),
        "v1 serves",
        "the old body serves"
    );
    let view = ada.runtime_view(&app).await;
    assert_eq!(
        view["activeRelease"]["version"], "v3",
        "a new release from v1's files: {view}"
    );
    assert_eq!(view["status"], "running", "{view}");
    let log = ada.log_lines(second_id).await;
    assert!(
        log.iter().any(|l| l["line"].as_str() == Some(error)),
        "the build log says it too: {log:?}"
    );
    let deployments = format!("/tenants/{}/projects/{}/deployments", ada.tenant_id, app.project_id);
    let total = ada.token.get(&deployments).await.expect("deployments").body["total"].clone();
    assert_eq!(total, 2, "the automatic rollback built nothing");
    assert_eq!(first["status"], "ready");

    // The first release of `lone` had nothing to return to.
    let lone_id = lone_first["id"].as_str().expect("id");
    let lone_failed = deployment_becomes(&ada, lone_id, "failed").await;
    assert!(
        lone_failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("crash-looped after going live; no earlier release to return to")),
        "{lone_failed}"
    );
    assert!(
        !event_types(&lone_failed).contains(&"auto_rollback".to_owned()),
        "{lone_failed}"
    );
    assert_eq!(ada.runtime_view(&lone).await["status"], "crashed");

    // A release made by a rollback is not watched: returning to v2 by hand leaves it crashed.
    let back = ada
        .token
        .post(
            &format!("/tenants/{}/rollback", ada.tenant_id),
            &json!({ "releaseId": ready["releaseId"] }),
        )
        .await
        .expect("rollback");
    assert_eq!(back.status, 201, "{}", back.body);
    let deadline = Instant::now() + Duration::from_secs(90);
    while ada.runtime_view(&app).await["status"] != "crashed" {
        assert!(Instant::now() < deadline, "the rolled-back-to v2 never crash-looped");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // The watch would have acted within a second of the crash loop.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let view = ada.runtime_view(&app).await;
    assert_eq!(view["activeRelease"]["version"], "v4", "{view}");
    assert_eq!(view["status"], "crashed", "{view}");
}
