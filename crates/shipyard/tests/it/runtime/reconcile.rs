//! What runs follows what the store says (#31): after a workspace is suspended and reinstated,
//! with a delete elsewhere in between, its apps serve again; after a restart, apps come back
//! each on its own health clock, so one that never gets healthy holds up nobody else.

use crate::support::edge::fetch;
use crate::support::fixtures::npm_app_serving;
use crate::support::git::commit;
use crate::support::{Tenant, TestServer};
use serde_json::json;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A node server answering `body`.
fn serving(body: &str) -> String {
    format!("require('http').createServer((q, r) => r.end('{body}')).listen(process.env.PORT);")
}

/// A node server that answers its health check only until `until_ms` (milliseconds since the
/// epoch), then 503 for ever: healthy when deployed, never again after a restart.
fn healthy_until(until_ms: u128) -> String {
    format!(
        "require('http').createServer((q, r) => {{ if (Date.now() > {until_ms}) r.statusCode = 503; r.end('late'); }})\
         .listen(process.env.PORT);"
    )
}

/// Waits up to `within` for `host` to answer `body`; the status and text it last answered.
async fn serves(server: &TestServer, host: &str, body: &str, within: Duration) -> (u16, String) {
    let deadline = Instant::now() + within;
    loop {
        let got = fetch(server, host, "/", &[]).await;
        let text = got.text();
        if (got.status == 200 && text == body) || Instant::now() > deadline {
            return (got.status, text);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Deploys a node app named `name` answering `body`; its live host.
async fn node_app(server: &TestServer, who: &Tenant, name: &str, body: &str) -> String {
    let (app, _) = who.node_app_ready(server, name, &serving(body), json!({})).await;
    who.live_host_of(&app).await
}

#[tokio::test]
async fn a_reinstated_workspace_serves_again_after_a_delete_elsewhere() {
    let server = TestServer::start(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobs").await;
    let host = node_app(&server, &bob, "api", "bob app").await;
    assert_eq!(serves(&server, &host, "bob app", Duration::ZERO).await.0, 200);
    let admin = format!("/admin/tenants/{}", bob.tenant_id);
    let suspend = |suspended: bool| {
        let (ada, admin) = (&ada, &admin);
        async move {
            let done = ada
                .session
                .patch(admin, &json!({ "suspended": suspended }))
                .await
                .expect("request");
            assert_eq!(done.status, 200, "{}", done.body);
        }
    };
    suspend(true).await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.status, 503, "suspended");

    // Something unrelated changes what is live: ada deletes an environment of her own.
    let site = ada
        .deployable(
            &server,
            "site",
            "static",
            &[("index.html", "x")],
            crate::support::deploy::static_build("mkdir dist && cp index.html dist/"),
        )
        .await;
    let staging = ada.add_environment(&site, "staging").await;
    ada.delete_environment(&site, &staging).await;

    suspend(false).await;
    let (status, text) = serves(&server, &host, "bob app", Duration::from_secs(60)).await;
    assert_eq!((status, text.as_str()), (200, "bob app"), "reinstated, it serves again");
}

#[tokio::test]
async fn after_a_restart_healthy_apps_serve_while_one_that_never_gets_healthy_waits_alone() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // Made first, so it comes first wherever live releases are listed in order.
    let (late, _) = ada
        .node_app_ready(
            &server,
            "late",
            &serving("late"),
            json!({ "healthCheckTimeoutSeconds": 600 }),
        )
        .await;
    let mut hosts = Vec::new();
    for n in 1..=4 {
        hosts.push((
            node_app(&server, &ada, &format!("app{n}"), &format!("app {n}")).await,
            n,
        ));
    }
    // Its next release is healthy for 20 s, and never again.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis();
    let until = now + 20_000;
    let js = healthy_until(until);
    commit(&late.repo, &npm_app_serving(&js), "healthy for 20 s");
    let done = ada
        .finished(ada.deploy(&late).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(done["status"], "ready", "positive control: it was healthy once: {done}");
    let left = until.saturating_sub(SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_millis());
    tokio::time::sleep(Duration::from_millis(u64::try_from(left).unwrap_or(0) + 1000)).await;

    let late_host = ada.live_host_of(&late).await;
    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    let started = Instant::now();
    for (host, n) in &hosts {
        let body = format!("app {n}");
        let (status, text) = serves(&restarted, host, &body, Duration::from_secs(90)).await;
        assert_eq!(
            (status, text.as_str()),
            (200, body.as_str()),
            "app {n} serves after the restart ({:?} in)",
            started.elapsed()
        );
    }
    assert_eq!(
        fetch(&restarted, &late_host, "/", &[]).await.status,
        503,
        "the one that never gets healthy is not served"
    );
}
