//! Who may deploy and how much, what a restart does, builds racing on one environment,
//! retries, secrets in builds, and the sandbox's walls.

use crate::support::git::commit;
use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};

fn static_build(command: &str) -> Value {
    json!({ "build": { "buildCommand": command, "outputDirectory": "dist" } })
}

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

#[tokio::test]
async fn builds_get_secrets_redacted_and_cannot_see_the_platform() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let data = server.data_dir();
    let script = format!(
        "echo \"token is $API_TOKEN\"; echo \"encoded $(printf %s \"$API_TOKEN\" | base64)\"; \
         test -r /etc/os-release && echo 'control: /etc/os-release readable'; \
         cat {data}/master.key >/dev/null 2>&1 && echo 'LEAK: master.key' || echo 'hidden: master.key'; \
         ls {data}/shipyard.db >/dev/null 2>&1 && echo 'LEAK: database' || echo 'hidden: database'; \
         cat /proc/1/root{data}/master.key >/dev/null 2>&1 && echo 'LEAK: proc root' || echo 'hidden: /proc/1/root'; \
         touch /usr/pwned 2>/dev/null && echo 'LEAK: host writable' || echo 'read-only: /usr'; \
         echo \"user $(id -un)\"; mkdir -p dist; echo ok > dist/index.html",
        data = data.display()
    );
    let app = ada
        .deployable(
            &server,
            "probe",
            "static",
            &[("index.html", "x")],
            static_build(&script),
        )
        .await;
    let secret = "sk_live_4f9a1c7e2b8d";
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "API_TOKEN", "value": secret, "scope": "project", "projectId": app.project_id }),
    )
    .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let lines: Vec<String> = ada
        .log_lines(done["id"].as_str().expect("id"))
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    let text = lines.join("\n");
    assert!(
        text.contains("token is ****"),
        "the secret reached the build and was redacted: {text}"
    );
    assert!(text.contains("encoded ****"), "its base64 form too: {text}");
    // The logged command line names the LEAK markers; only output lines count.
    assert!(
        !text.contains(secret) && !lines.iter().any(|l| l.starts_with("LEAK")),
        "{text}"
    );
    for wall in [
        "control: /etc/os-release readable",
        "hidden: master.key",
        "hidden: database",
        "hidden: /proc/1/root",
        "read-only: /usr",
        "user shipyard-build",
    ] {
        assert!(text.contains(wall), "missing `{wall}` in:\n{text}");
    }
    assert!(text.contains("Secrets: API_TOKEN (v1, project)"), "{text}");
    let release = ada
        .token
        .get(&format!(
            "/tenants/{}/deployments/{}",
            ada.tenant_id,
            done["id"].as_str().expect("id")
        ))
        .await
        .expect("request");
    assert!(!release.body.to_string().contains(secret));
}

#[tokio::test]
async fn a_data_directory_behind_a_private_parent_still_builds() {
    use std::os::unix::fs::PermissionsExt;
    // Like `cargo run -- serve` from /root: the build user cannot enter the data directory.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let server = TestServer::start_in(dir, &[]);
    assert!(
        server
            .stdout()
            .contains("build workspaces and caches: /var/tmp/shipyard-work-"),
        "{}",
        server.stdout()
    );
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "private",
            "static",
            &[("index.html", "x")],
            static_build("mkdir -p dist && echo ok > dist/index.html"),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let artifact = server
        .data_dir()
        .join("artifacts")
        .join(done["releaseId"].as_str().expect("release"))
        .join("dist/index.html");
    assert_eq!(
        std::fs::read_to_string(artifact).expect("artifact in the data directory"),
        "ok\n"
    );
}

#[tokio::test]
async fn insecure_mode_builds_unconfined_and_says_so_loudly() {
    let server = TestServer::start(&["--insecure-no-sandbox"]);
    assert!(
        server.stdout().contains("INSECURE: builds run unconfined"),
        "{}",
        server.stdout()
    );
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "bare",
            "static",
            &[("index.html", "x")],
            static_build("mkdir -p dist && echo ok > dist/index.html"),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let lines = ada.log_lines(done["id"].as_str().expect("id")).await;
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().is_some_and(|t| t.contains("INSECURE"))),
        "every build log says so"
    );
}
