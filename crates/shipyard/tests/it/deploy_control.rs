//! Who may deploy and how much, what a restart does, builds racing on one environment,
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
    let paused = ada.token.post(&trigger, &json!({})).await.expect("request");
    assert_error(&paused, 409);
    assert!(paused.body["message"].as_str().is_some_and(|m| m.contains("paused")));
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
        .data_dir()
        .join("artifacts")
        .join(retried["releaseId"].as_str().expect("release"))
        .join("index.html");
    assert_eq!(std::fs::read_to_string(artifact).expect("artifact"), "v1");
    let fresh = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(fresh["commitMessage"], "second version");
}

#[tokio::test]
async fn a_restart_fails_the_running_build_and_keeps_the_queued_one() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "long",
            "static",
            &[("index.html", "x")],
            static_build("echo started; sleep 30; mkdir dist"),
        )
        .await;
    let running = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&running, 30, |s| s == "building").await;
    let queued = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    // The queued one waits behind the running one on the same environment.
    assert_eq!(
        ada.token
            .get(&format!("/tenants/{}/deployments/{queued}", ada.tenant_id))
            .await
            .expect("request")
            .body["status"],
        "queued"
    );

    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let workspace = dir.path().join("data/builds").join(&running);
    assert!(workspace.exists(), "the interrupted build left its workspace");
    let restarted = TestServer::start_in(dir, &[]);
    assert!(
        !restarted.data_dir().join("builds").join(&running).exists(),
        "the restart cleared it"
    );
    let token = restarted.client().with_token(ada.token_value());
    let interrupted = token
        .get(&format!("/tenants/{}/deployments/{running}", ada.tenant_id))
        .await
        .expect("request")
        .body;
    assert_eq!(interrupted["status"], "failed");
    assert!(
        interrupted["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("interrupted by a platform restart")),
        "{interrupted}"
    );
    // The queued deployment was not lost: it runs now (and hits the same slow build).
    let ada_again = crate::support::Tenant {
        token,
        ..ada.clone_with_base(&restarted)
    };
    let picked_up = ada_again.wait_for(&queued, 30, |s| s == "building").await;
    assert_eq!(picked_up["status"], "building");
    let cancel = ada_again
        .token
        .post(
            &format!("/tenants/{}/deployments/{queued}/cancel", ada.tenant_id),
            &json!({}),
        )
        .await
        .expect("request");
    assert_eq!(cancel.status, 202);
}
