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

/// Stops a server and starts another on the same data directory.
fn restart(server: &mut TestServer) -> TestServer {
    restart_after(server, |_| {})
}

/// Stops a server, lets `meddle` change its data directory, and starts another on it.
fn restart_after(server: &mut TestServer, meddle: impl FnOnce(&std::path::Path)) -> TestServer {
    assert!(server.terminate().success());
    meddle(&server.data_dir());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    TestServer::start_in(dir, &[])
}

#[tokio::test]
async fn a_restart_queues_the_running_build_again_once_and_keeps_the_queued_one() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "slow",
            "static",
            &[("index.html", "served")],
            static_build("echo started; sleep 4; mkdir dist && cp index.html dist/"),
        )
        .await;
    let running = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&running, 30, |s| s == "building").await;
    let queued = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    // `building` is set before the checkout: wait (bounded) for the build to be under way.
    let workspace = server.data_dir().join("builds").join(&running);
    for _ in 0..100 {
        if ada.log_lines(&running).await.iter().any(|l| l["line"] == "started") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(workspace.exists(), "the build has a workspace");

    let mut restarted = restart(&mut server);
    let ada = ada.clone_with_base(&restarted);
    // The interrupted build runs again as attempt 2 and deploys; the queued one follows it.
    let second = ada.finished(&running, 60).await;
    assert_eq!(second["status"], "ready", "{second}");
    assert_eq!(second["attempt"], 2);
    let lines: Vec<String> = ada
        .log_lines(&running)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    let restarted_at = lines
        .iter()
        .position(|l| l.starts_with("restarted after a platform restart"))
        .unwrap_or_else(|| panic!("no restart line in {lines:?}"));
    assert!(
        lines[..restarted_at].iter().any(|l| l == "started") && lines[restarted_at..].iter().any(|l| l == "started"),
        "both attempts ran the build: {lines:?}"
    );
    let after = ada.finished(&queued, 60).await;
    assert_eq!(
        (after["status"].as_str(), after["attempt"].as_i64()),
        (Some("ready"), Some(1))
    );

    // Interrupted a second time, a deployment fails for good.
    let twice = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&twice, 30, |s| s == "building").await;
    let mut third = restart(&mut restarted);
    let ada = ada.clone_with_base(&third);
    let again = ada.wait_for(&twice, 30, |s| s == "building").await;
    assert_eq!(again["attempt"], 2);
    let last = restart(&mut third);
    let ada = ada.clone_with_base(&last);
    let failed = ada.finished(&twice, 30).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"], "interrupted by a platform restart");
    assert!(
        !last.data_dir().join("builds").join(&twice).exists(),
        "the restart cleared the interrupted workspace"
    );
}

#[tokio::test]
async fn a_secret_that_cannot_be_decrypted_fails_the_deployment_with_the_cause() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "keyed",
            "static",
            &[("index.html", "x")],
            static_build("mkdir dist && cp index.html dist/"),
        )
        .await;
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "API_KEY", "value": "sk_live_0123456789", "scope": "project", "projectId": app.project_id }),
    )
    .await;
    // Positive control: with the key it was sealed with, the secret opens and the build runs.
    let fine = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(fine["status"], "ready", "{fine}");

    // An operator restores the wrong master.key: a valid key, but not the one that sealed it.
    assert!(server.terminate().success());
    let key_path = server.data_dir().join("master.key");
    let other: Vec<u8> = std::fs::read(&key_path)
        .expect("key")
        .iter()
        .map(|b| b ^ 0x5a)
        .collect();
    std::fs::write(&key_path, other).expect("write key");
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    let ada = ada.clone_with_base(&restarted);
    let failed = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 30)
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("secret API_KEY") && error.contains("could not be decrypted"),
        "{error}"
    );
    assert!(!error.contains("sk_live"), "{error}");
    let lines = ada.log_lines(failed["id"].as_str().expect("id")).await;
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().is_some_and(|t| t.contains("could not be decrypted"))),
        "the log says why: {lines:?}"
    );
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
