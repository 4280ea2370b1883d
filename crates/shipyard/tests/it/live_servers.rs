//! Server releases (#13, first part): a node app's instances start in the project's sandbox,
//! pass their health check, and serve the live URL through the edge's reverse proxy; a
//! release that never gets healthy fails while the old one keeps serving.

use crate::support::TestServer;
use crate::support::edge::{fetch, live_host};
use crate::support::git::{commit, npm_app_files};
use serde_json::{Value, json};

/// A node server answering `body` on `PORT`, echoing the forwarded headers it got.
fn server_js(body: &str) -> String {
    format!(
        "require('http').createServer((q, r) => {{ r.setHeader('x-seen-for', q.headers['x-forwarded-for'] || ''); \
         r.end('{body}'); }}).listen(process.env.PORT, () => console.log('listening on ' + process.env.PORT));"
    )
}

#[tokio::test]
async fn a_node_app_serves_its_live_url_and_a_release_that_never_gets_healthy_fails() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let mut files = npm_app_files();
    let first = server_js("served by v1");
    files.retain(|(name, _)| *name != "server.js");
    files.push(("server.js", first.as_str()));
    let app = ada
        .deployable(
            &server,
            "api",
            "node",
            &files,
            json!({ "runtime": { "startCommand": "node server.js", "port": 3000 } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let project: Value = ada
        .token
        .get(&format!("/tenants/{}/projects/{}", ada.tenant_id, app.project_id))
        .await
        .expect("project")
        .body;
    let host = live_host(&project);
    let live = fetch(&server, &host, "/", &[("x-forwarded-for", "6.6.6.6")]).await;
    assert_eq!((live.status, live.text().as_str()), (200, "served by v1"));
    assert_eq!(
        live.header("x-seen-for"),
        "127.0.0.1",
        "the edge sets X-Forwarded-For; the client's is dropped"
    );
    let runtime = ada
        .token
        .get(&format!(
            "/tenants/{}/projects/{}/environments/{}/runtime",
            ada.tenant_id, app.project_id, app.environment_id
        ))
        .await
        .expect("runtime")
        .body;
    assert_eq!(runtime["status"], "running", "{runtime}");
    assert_eq!(runtime["instances"][0]["status"], "healthy", "{runtime}");
    assert!(runtime["instances"][0]["pid"].as_u64().is_some(), "{runtime}");

    // A release whose server exits at once never gets healthy: the deploy fails saying so,
    // with the app's last output in the build log, and v1 keeps serving.
    let broken = "console.log('boom: missing config'); process.exit(3);";
    commit(&app.repo, &[("server.js", broken)], "broken");
    let failed = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("did not become healthy"), "{error}");
    let lines = ada.log_lines(failed["id"].as_str().expect("id")).await;
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().is_some_and(|t| t.contains("boom: missing config"))),
        "the app's last output is in the build log: {lines:?}"
    );
    let still = fetch(&server, &host, "/", &[]).await;
    assert_eq!((still.status, still.text().as_str()), (200, "served by v1"));
}
