//! What a live URL does over a release's life (#12): an atomic swap under load, rollback
//! without a build, pause and resume, restart survival, and deletes that take the route and
//! the files with them.

use crate::support::deploy::{Deployable, static_build};
use crate::support::edge::{edge_client, fetch, fetch_with, live_host};
use crate::support::git::commit;
use crate::support::{Tenant, TestServer, assert_error};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const COPY: &str = "mkdir -p dist && cp index.html dist/";

async fn ready(ada: &Tenant, app: &Deployable) -> Value {
    let done = ada
        .finished(ada.deploy(app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    done
}

async fn deployment_count(ada: &Tenant, app: &Deployable) -> u64 {
    let list = ada
        .token
        .get(&format!(
            "/tenants/{}/projects/{}/deployments",
            ada.tenant_id, app.project_id
        ))
        .await
        .expect("deployments")
        .body;
    list["total"].as_u64().unwrap_or_else(|| panic!("a total in {list}"))
}

async fn rollback(ada: &Tenant, release: &str) -> shipyard_client::ApiResponse {
    ada.token
        .post(
            &format!("/tenants/{}/rollback", ada.tenant_id),
            &json!({ "releaseId": release, "reason": "the new version is broken" }),
        )
        .await
        .expect("rollback")
}

async fn set_status(ada: &Tenant, app: &Deployable, status: &str) {
    let done = ada
        .token
        .patch(
            &format!("/tenants/{}/projects/{}", ada.tenant_id, app.project_id),
            &json!({ "status": status }),
        )
        .await
        .expect("patch");
    assert_eq!(done.status, 200, "{}", done.body);
}

#[tokio::test]
async fn a_redeploy_swaps_without_a_failed_request_and_a_rollback_needs_no_build() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "web",
            "static",
            &[("index.html", "version one")],
            static_build(COPY),
        )
        .await;
    let first = ready(&ada, &app).await;
    let host = ada.live_host_of(&app).await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "version one");

    // 20 clients loop over the whole swap (bounded: they stop when told, or after 60 s).
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..20 {
        let (stop, base, host) = (stop.clone(), server.base.clone(), host.clone());
        clients.push(tokio::spawn(async move {
            let client = edge_client();
            let started = Instant::now();
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
                let got = client.get(format!("{base}/")).header("host", &host).send().await;
                let outcome = match got {
                    Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
                    Err(e) => (0, e.to_string()),
                };
                seen.push(outcome);
            }
            seen
        }));
    }
    commit(&app.repo, &[("index.html", "version two")], "second version");
    let second = ready(&ada, &app).await;
    // `ready` means the live URL already serves the new release.
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "version two");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut outcomes = Vec::new();
    for client in clients {
        outcomes.extend(client.await.expect("client"));
    }
    let failed: Vec<_> = outcomes.iter().filter(|(status, _)| *status != 200).collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed: {:?}",
        failed.len(),
        outcomes.len(),
        &failed[..failed.len().min(3)]
    );
    assert!(
        outcomes
            .iter()
            .all(|(_, body)| body == "version one" || body == "version two")
    );
    assert!(
        outcomes.iter().any(|(_, body)| body == "version one"),
        "the old release served during the swap"
    );
    assert!(
        outcomes.iter().any(|(_, body)| body == "version two"),
        "and then the new one"
    );

    // Rollback: the old body, a new release naming the old one, and no build.
    let deployments = deployment_count(&ada, &app).await;
    let log_lines = ada.log_lines(second["id"].as_str().expect("id")).await.len();
    let old = first["releaseId"].as_str().expect("release").to_owned();
    let back = rollback(&ada, &old).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(back.body["rollbackOf"], old.as_str());
    assert_eq!(
        (back.body["status"].as_str(), back.body["deploymentId"].as_str()),
        (Some("active"), None)
    );
    assert_eq!(back.body["version"], "v3");
    assert_eq!(
        fetch(&server, &host, "/", &[]).await.text(),
        "version one",
        "live when the 201 came"
    );
    assert_eq!(
        deployment_count(&ada, &app).await,
        deployments,
        "no deployment for a rollback"
    );
    assert_eq!(
        ada.log_lines(second["id"].as_str().expect("id")).await.len(),
        log_lines,
        "no build log line"
    );
    let runtime_path = format!(
        "/tenants/{}/projects/{}/environments/{}/runtime",
        ada.tenant_id, app.project_id, app.environment_id
    );
    let runtime = ada.token.get(&runtime_path).await.expect("runtime").body;
    let new = back.body["id"].as_str().expect("id");
    assert_eq!(runtime["status"], "running", "{runtime}");
    assert_eq!(runtime["activeRelease"]["id"], new);
    assert_eq!(runtime["routes"][0]["host"], host.as_str());
    assert_eq!(runtime["routes"][0]["target"], format!("artifact:{new}"));
    assert_eq!(runtime["instances"], json!([]));
    assert!(
        runtime["urls"][0].as_str().is_some_and(|u| u.contains(&host)),
        "{runtime}"
    );
    let again = rollback(&ada, new).await;
    assert_error(&again, 409);
    assert!(
        again.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("already the active"))
    );

    // Paused: 503 saying so, and no rollback; active again: served.
    set_status(&ada, &app, "paused").await;
    let paused = fetch(&server, &host, "/", &[]).await;
    assert_eq!(paused.status, 503);
    assert!(paused.text().contains("paused"), "{}", paused.text());
    assert_eq!(
        ada.token.get(&runtime_path).await.expect("runtime").body["status"],
        "paused"
    );
    let refused = rollback(&ada, second["releaseId"].as_str().expect("release")).await;
    assert_error(&refused, 409);
    assert!(refused.body["message"].as_str().is_some_and(|m| m.contains("paused")));
    set_status(&ada, &app, "active").await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "version one");

    // A restart serves the active release at once, without a build.
    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    let after = fetch(&restarted, &host, "/", &[]).await;
    assert_eq!((after.status, after.text().as_str()), (200, "version one"));
    let ada = ada.clone_with_base(&restarted);
    assert_eq!(deployment_count(&ada, &app).await, deployments);
}

#[tokio::test]
async fn rollback_refuses_pruned_foreign_and_unknown_releases() {
    let server = TestServer::start(&["--release-retention", "1", "--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(&server, "web", "static", &[("index.html", "one")], static_build(COPY))
        .await;
    let first = ready(&ada, &app).await;
    commit(&app.repo, &[("index.html", "two")], "two");
    ready(&ada, &app).await;
    let pruned = rollback(&ada, first["releaseId"].as_str().expect("release")).await;
    assert_error(&pruned, 409);
    assert!(
        pruned.body["message"].as_str().is_some_and(|m| m.contains("retention")),
        "{}",
        pruned.body
    );
    let bob = server.tenant("bob@example.com", "Bobs").await;
    for foreign in [first["releaseId"].as_str().expect("release"), "rel_nope", "not an id"] {
        let refused = rollback(&bob, foreign).await;
        assert_error(&refused, 422);
        assert!(
            refused.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("releaseId")),
            "{}",
            refused.body
        );
    }
}

#[tokio::test]
async fn deleting_an_environment_or_project_takes_its_route_and_files() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(&server, "web", "static", &[("index.html", "hello")], static_build(COPY))
        .await;
    let prod = ready(&ada, &app).await;
    let staging = ada.add_environment(&app, "staging").await;
    let staged = ada
        .finished(ada.deploy_env(&app, &staging).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(staged["status"], "ready", "{staged}");
    let view = ada.project_view(&app).await;
    let host_of = |slug: &str| {
        view["environments"]
            .as_array()
            .expect("environments")
            .iter()
            .find(|e| e["slug"] == slug)
            .map(|e| live_host(&json!({ "environments": [e] })))
            .expect("environment")
    };
    let (prod_host, staging_host) = (host_of("production"), host_of("staging"));
    assert_eq!(fetch(&server, &staging_host, "/", &[]).await.text(), "hello");
    let staged_files = server.artifact(staged["releaseId"].as_str().expect("release"));
    let prod_files = server.artifact(prod["releaseId"].as_str().expect("release"));
    assert!(staged_files.exists());

    let deleted = ada
        .token
        .delete(&format!(
            "/tenants/{}/projects/{}/environments/{staging}",
            ada.tenant_id, app.project_id
        ))
        .await
        .expect("delete");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let gone = fetch(&server, &staging_host, "/", &[]).await;
    assert_eq!(gone.status, 404);
    assert!(gone.text().contains("no app at"), "{}", gone.text());
    assert!(!staged_files.exists(), "the environment's files went with it");
    assert!(prod_files.exists(), "control: production's files stay");
    assert_eq!(
        fetch(&server, &prod_host, "/", &[]).await.status,
        200,
        "control: production still serves"
    );

    ada.delete_project(&app).await;
    let head = fetch_with(&edge_client(), &server, reqwest::Method::GET, &prod_host, "/", &[]).await;
    assert_eq!(head.status, 404);
    assert!(!prod_files.exists());
}
