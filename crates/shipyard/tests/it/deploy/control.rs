//! Who may deploy and how much, builds racing on one environment, API writes during floods,
//! retries, secrets in builds, and the sandbox's walls.

use crate::support::deploy::static_build;
use crate::support::git::commit;
use crate::support::{TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn quota_suspension_and_paused_projects_stop_deploys() {
    let server = TestServer::start(&["--allow-signup"]);
    let admin = server.tenant("admin@example.com", "Platform").await;
    let ada = server.tenant("ada@example.com", "Acme").await;
    let site = ada
        .deployable(
            &server,
            "site",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "outputDirectory": "." } }),
        )
        .await;
    let trigger = format!(
        "/tenants/{}/projects/{}/environments/{}/deployments",
        ada.tenant_id, site.project_id, site.environment_id
    );
    let tenant_admin = format!("/admin/tenants/{}", ada.tenant_id);

    assert_eq!(
        admin
            .session
            .patch(&tenant_admin, &json!({ "deploysPerDay": 1 }))
            .await
            .expect("request")
            .status,
        200
    );
    let first = ada.deploy(&site).await;
    let over = ada.token.post(&trigger, &json!({})).await.expect("request");
    assert_error(&over, 429);
    let retry_after: u64 = over.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=86_400).contains(&retry_after));
    assert!(
        over.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("quota of 1 per day"))
    );
    ada.finished(first["id"].as_str().expect("id"), 60).await;
    let retry = ada
        .token
        .post(
            &format!(
                "/tenants/{}/deployments/{}/retry",
                ada.tenant_id,
                first["id"].as_str().expect("id")
            ),
            &json!({}),
        )
        .await;
    assert_error(&retry.expect("request"), 429);

    admin
        .session
        .patch(&tenant_admin, &json!({ "deploysPerDay": 100, "suspended": true }))
        .await
        .expect("request");
    let suspended = ada.token.post(&trigger, &json!({})).await.expect("request");
    assert_error(&suspended, 403);
    assert!(
        suspended.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("suspended"))
    );
    admin
        .session
        .patch(&tenant_admin, &json!({ "suspended": false }))
        .await
        .expect("request");

    let project = format!("/tenants/{}/projects/{}", ada.tenant_id, site.project_id);
    ada.token
        .patch(&project, &json!({ "status": "paused" }))
        .await
        .expect("request");
    // One rule, one sentence, for a deploy, a retry and a rollback.
    let paused = ada.token.post(&trigger, &json!({})).await.expect("request");
    assert_error(&paused, 409);
    assert_eq!(
        paused.body["message"], "project site is paused; set its status to active to deploy",
        "{}",
        paused.body
    );
    let retry_path = format!(
        "/tenants/{}/deployments/{}/retry",
        ada.tenant_id,
        first["id"].as_str().expect("id")
    );
    let retried = ada.token.post(&retry_path, &json!({})).await.expect("request");
    assert_error(&retried, 409);
    assert_eq!(retried.body["message"], paused.body["message"], "{}", retried.body);
    ada.token
        .patch(&project, &json!({ "status": "active" }))
        .await
        .expect("request");
    assert_error(
        &ada.token
            .post(&trigger, &json!({ "branch": "no such" }))
            .await
            .expect("request"),
        400,
    );
    assert_error(
        &ada.token
            .post(&trigger, &json!({ "brnch": "main" }))
            .await
            .expect("request"),
        400,
    );
    let other_env = format!(
        "/tenants/{}/projects/{}/environments/env_00000000000000000000000000000000/deployments",
        ada.tenant_id, site.project_id
    );
    assert_error(&ada.token.post(&other_env, &json!({})).await.expect("request"), 404);
}

#[tokio::test]
async fn racing_deploys_run_in_order_and_the_newest_release_wins() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "race",
            "static",
            &[("index.html", "x")],
            static_build("sleep 1; mkdir -p dist; date +%s%N > dist/stamp"),
        )
        .await;
    let trigger = format!(
        "/tenants/{}/projects/{}/environments/{}/deployments",
        ada.tenant_id, app.project_id, app.environment_id
    );
    let (note_a, note_b) = (json!({ "note": "a" }), json!({ "note": "b" }));
    let (a, b) = tokio::join!(ada.token.post(&trigger, &note_a), ada.token.post(&trigger, &note_b));
    let (a, b) = (a.expect("request").body, b.expect("request").body);
    let (first, second) = if a["ref"].as_str() < b["ref"].as_str() {
        (a, b)
    } else {
        (b, a)
    };
    let first = ada.finished(first["id"].as_str().expect("id"), 60).await;
    let second = ada.finished(second["id"].as_str().expect("id"), 60).await;
    assert_eq!(
        (first["status"].as_str(), second["status"].as_str()),
        (Some("ready"), Some("ready"))
    );
    assert!(
        second["startedAt"].as_str() >= first["finishedAt"].as_str(),
        "one build at a time per environment: {first} {second}"
    );
    let runtime_release = second["releaseId"].clone();
    let releases = ada
        .token
        .get(&format!(
            "/tenants/{}/deployments/{}",
            ada.tenant_id,
            first["id"].as_str().expect("id")
        ))
        .await
        .expect("request");
    assert_eq!(releases.body["release"]["version"], "v1");
    assert_eq!(second["release"]["version"], "v2");
    assert!(runtime_release.is_string());
    let listed = ada
        .token
        .get(&format!(
            "/tenants/{}/projects/{}/deployments?status=ready",
            ada.tenant_id, app.project_id
        ))
        .await
        .expect("request");
    assert_eq!(listed.body["total"], 2);
    assert_eq!(listed.body["items"][0]["id"], second["id"], "newest first");
}

#[tokio::test]
async fn a_retry_builds_the_same_commit_after_the_branch_moved() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "pinned",
            "static",
            &[("index.html", "v1")],
            json!({ "build": { "outputDirectory": "." } }),
        )
        .await;
    let first = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    commit(&app.repo, &[("index.html", "v2")], "second version");
    let retry = ada
        .token
        .post(
            &format!(
                "/tenants/{}/deployments/{}/retry",
                ada.tenant_id,
                first["id"].as_str().expect("id")
            ),
            &json!({}),
        )
        .await
        .expect("request");
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert_eq!(retry.body["trigger"], "retry");
    assert_ne!(retry.body["ref"], first["ref"]);
    let retried = ada.finished(retry.body["id"].as_str().expect("id"), 60).await;
    assert_eq!(
        retried["commitSha"], first["commitSha"],
        "same commit, not the moved branch"
    );
    let artifact = server
        .artifact(retried["releaseId"].as_str().expect("release"))
        .join("index.html");
    assert_eq!(std::fs::read_to_string(artifact).expect("artifact"), "v1");
    let fresh = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(fresh["commitMessage"], "second version");
}

#[tokio::test]
async fn api_writes_succeed_while_two_builds_flood_their_logs() {
    let server = TestServer::start(&["--build-concurrency", "2"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let flood = static_build("seq 1 50000; seq 1 50000 >&2; mkdir dist && cp index.html dist/");
    let mut deployments = Vec::new();
    for name in ["flood-a", "flood-b"] {
        let app = ada
            .deployable(&server, name, "static", &[("index.html", "x")], flood.clone())
            .await;
        deployments.push(ada.deploy(&app).await["id"].as_str().expect("id").to_owned());
    }
    // Writes that take the main database's write lock, for as long as the builds run.
    let mut writes = 0;
    let started = std::time::Instant::now();
    loop {
        let mut finished = 0;
        for id in &deployments {
            let view = ada
                .token
                .get(&format!("/tenants/{}/deployments/{id}", ada.tenant_id))
                .await
                .expect("request");
            finished += usize::from(matches!(
                view.body["status"].as_str(),
                Some("ready" | "failed" | "canceled")
            ));
        }
        if finished == deployments.len() {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "the builds did not finish"
        );
        let response = ada
            .token
            .post(
                &format!("/tenants/{}/secrets", ada.tenant_id),
                &json!({ "name": format!("KEY_{writes}"), "value": "some-value", "scope": "workspace" }),
            )
            .await
            .expect("request");
        assert_eq!(
            response.status, 201,
            "write {writes} during the flood: {}",
            response.body
        );
        writes += 1;
    }
    assert!(writes > 0, "positive control: writes happened while the builds ran");
    for id in &deployments {
        let done = ada.finished(id, 10).await;
        assert_eq!(done["status"], "ready", "{done}");
        let lines = ada.all_log_lines(id, 10_000).await;
        assert!(lines.len() >= 100_000, "{id} kept every line: {}", lines.len());
    }
}
