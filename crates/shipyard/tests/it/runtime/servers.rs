//! Server releases (#13, first part): a node app's instances start in the project's sandbox,
//! pass their health check, and serve the live URL through the edge's reverse proxy; a
//! release that never gets healthy fails while the old one keeps serving.

use crate::support::deploy::Deployable;
use crate::support::edge::fetch;
use crate::support::fixtures::npm_app_serving;
use crate::support::git::commit;
use crate::support::{Tenant, TestServer};
use serde_json::json;

/// A node server answering `body` on `PORT`, echoing the forwarded headers it got, and
/// printing its port, its `API_KEY` (a secret, which the runtime log must mask) and that
/// key's length (proof it got the secret) at start.
fn server_js(body: &str) -> String {
    format!(
        "require('http').createServer((q, r) => {{ r.setHeader('x-seen-for', q.headers['x-forwarded-for'] || ''); \
         r.setHeader('x-seen-id', q.headers['x-request-id'] || ''); \
         r.end('{body}'); }}).listen(process.env.PORT, () => {{ console.log('listening on ' + process.env.PORT); \
         console.log('key ' + process.env.API_KEY); console.log('keylen ' + (process.env.API_KEY || '').length); }});"
    )
}

/// A node project whose server answers `body`.
async fn node_app(server: &TestServer, ada: &Tenant, body: &str) -> Deployable {
    let js = server_js(body);
    let files = npm_app_serving(&js);
    ada.deployable(
        server,
        "api",
        "node",
        &files,
        json!({ "runtime": { "startCommand": "node server.js", "port": 3000 } }),
    )
    .await
}

#[tokio::test]
async fn a_node_app_serves_its_live_url_and_a_release_that_never_gets_healthy_fails() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let secret = "sk_live_runtime_9f8e7d6c";
    ada.workspace_secret("API_KEY", secret).await;
    let app = node_app(&server, &ada, "served by v1").await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = ada.live_host_of(&app).await;
    let live = fetch(&server, &host, "/", &[("x-forwarded-for", "6.6.6.6")]).await;
    assert_eq!((live.status, live.text().as_str()), (200, "served by v1"));
    assert_eq!(
        live.header("x-seen-for"),
        "127.0.0.1",
        "the edge sets X-Forwarded-For; the client's is dropped"
    );
    // A request id reaches the app: the edge's own when the client sent none (unique per
    // request), the client's when it sent one.
    let again = fetch(&server, &host, "/", &[]).await;
    let (first, second) = (live.header("x-seen-id"), again.header("x-seen-id"));
    assert!(!first.is_empty() && first != second, "{first:?} {second:?}");
    let traced = fetch(&server, &host, "/", &[("x-request-id", "trace-abc-123")]).await;
    assert_eq!(traced.header("x-seen-id"), "trace-abc-123");
    let runtime = ada.runtime_view(&app).await;
    assert_eq!(runtime["status"], "running", "{runtime}");
    assert_eq!(runtime["instances"][0]["status"], "healthy", "{runtime}");
    // What it shows is the instance's own: its own port, and no host pid (it has a pid
    // namespace of its own).
    assert_eq!(runtime["instances"][0]["port"], 3000, "{runtime}");
    assert!(runtime["instances"][0]["pid"].is_null(), "{runtime}");
    // The instance's output is in the release's runtime log, its secret masked.
    let release = done["releaseId"].as_str().expect("release");
    let text = ada.runtime_log_text(release, |t| t.contains("keylen ")).await;
    assert!(text.contains("listening on 3000"), "the startup line: {text}");
    assert!(
        text.contains(&format!("keylen {}", secret.len())),
        "control: the app got the secret: {text}"
    );
    assert!(
        text.contains("key ") && !text.contains(secret),
        "the secret is masked: {text}"
    );

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

/// Polls the live URL until it answers `body` (bounded).
async fn until_serves(server: &TestServer, host: &str, body: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let got = fetch(server, host, "/", &[]).await;
        if got.status == 200 && got.text() == body {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{host} still answers {} {:?}",
            got.status,
            got.text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_server_release_rolls_back_pauses_and_comes_back_after_a_restart() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = node_app(&server, &ada, "served by v1").await;
    let first = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(first["status"], "ready", "{first}");
    let v2 = server_js("served by v2");
    commit(&app.repo, &[("server.js", v2.as_str())], "v2");
    let second = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(second["status"], "ready", "{second}");
    let host = ada.live_host_of(&app).await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "served by v2");

    // Rollback: the old artifact's instances start, answer, and take the route: no build.
    let deployments = format!("/tenants/{}/projects/{}/deployments", ada.tenant_id, app.project_id);
    let before = ada.token.get(&deployments).await.expect("deployments").body["total"].clone();
    let back = ada
        .token
        .post(
            &format!("/tenants/{}/rollback", ada.tenant_id),
            &json!({ "releaseId": first["releaseId"] }),
        )
        .await
        .expect("rollback");
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(
        fetch(&server, &host, "/", &[]).await.text(),
        "served by v1",
        "live when the 201 came"
    );
    let after = ada.token.get(&deployments).await.expect("deployments").body["total"].clone();
    assert_eq!(
        (before.as_u64(), &after),
        (Some(2), &before),
        "a rollback makes no deployment (no build, no build log)"
    );

    // Paused: 503 and the instances stop; active again: they start and serve.
    let patch = |status: &'static str| {
        let (token, path) = (
            ada.token.clone(),
            format!("/tenants/{}/projects/{}", ada.tenant_id, app.project_id),
        );
        async move { token.patch(&path, &json!({ "status": status })).await.expect("patch") }
    };
    assert_eq!(patch("paused").await.status, 200);
    assert_eq!(fetch(&server, &host, "/", &[]).await.status, 503);
    assert_eq!(patch("active").await.status, 200);
    until_serves(&server, &host, "served by v1").await;

    // A restart brings the server release back without a build.
    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    until_serves(&restarted, &host, "served by v1").await;
}

#[tokio::test]
async fn an_instance_reaches_neither_the_host_nor_another_sandbox_while_the_edge_reaches_it() {
    instance_is_walled_in(crate::support::KERNEL_NETWORK).await;
}

#[tokio::test]
async fn through_pasta_an_instance_reaches_neither_the_host_nor_another_sandbox_while_the_edge_reaches_it() {
    instance_is_walled_in(crate::support::PASTA_NETWORK).await;
}

/// The host's loopback and another sandbox no, the edge yes, on a server started with `flags`.
async fn instance_is_walled_in(flags: &[&str]) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let server = TestServer::start(flags);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // A listener on the host's loopback that counts who connects.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let probe_port = listener.local_addr().expect("addr").port();
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let api_port = server.base.rsplit(':').next().expect("port").to_owned();
    // Another project's instance, whose port the app will try too.
    let neighbour = node_app(&server, &ada, "neighbour serves").await;
    let up = ada
        .finished(ada.deploy(&neighbour).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(up["status"], "ready", "{up}");
    let neighbour_port = crate::support::host::instance_host_port(up["releaseId"].as_str().expect("release"), 1);
    // The app tries the host's loopback listener, the API and the neighbour's instance at
    // start, and says what it got.
    let app_js = format!(
        "const net = require('net');\n\
         for (const [name, port] of [['loopback', {probe_port}], ['api', {api_port}], ['neighbour', {neighbour_port}]]) {{\n\
           const s = net.connect({{ host: '127.0.0.1', port, timeout: 5000 }});\n\
           s.on('connect', () => {{ console.log('REACHED ' + name); s.destroy(); }});\n\
           s.on('error', () => console.log('BLOCKED ' + name));\n\
           s.on('timeout', () => {{ console.log('BLOCKED ' + name); s.destroy(); }});\n\
         }}\n\
         require('http').createServer((q, r) => r.end('inside')).listen(process.env.PORT);"
    );
    let files = npm_app_serving(&app_js);
    let app = ada
        .deployable(
            &server,
            "walled",
            "node",
            &files,
            json!({ "runtime": { "startCommand": "node server.js", "port": 3000 } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    // Positive control: the edge reaches the instance.
    let host = ada.live_host_of(&app).await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "inside");
    let release = done["releaseId"].as_str().expect("release");
    let text = ada
        .runtime_log_text(release, |t| {
            t.contains(" loopback") && t.contains(" api") && t.contains(" neighbour")
        })
        .await;
    for wall in ["loopback", "api", "neighbour"] {
        assert!(text.contains(&format!("BLOCKED {wall}")), "{wall}: {text}");
        assert!(!text.contains(&format!("REACHED {wall}")), "{wall}: {text}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing from the instance arrived");
    // Control for the neighbour: the edge reaches it.
    let neighbour_host = ada.live_host_of(&neighbour).await;
    assert_eq!(
        fetch(&server, &neighbour_host, "/", &[]).await.text(),
        "neighbour serves"
    );

    // Another sandbox (a second project's build) cannot reach the instance's port, while the
    // host can (the edge's way in).
    let port = crate::support::host::instance_host_port(release, 1);
    std::net::TcpStream::connect(("127.0.0.1", port)).expect("the host reaches it");
    let probe = format!(
        "node -e \"const s=require('net').connect({{host:'127.0.0.1',port:{port},timeout:5000}});\
         s.on('connect',()=>{{console.log('REACHED instance');process.exit(0)}});\
         s.on('error',()=>{{console.log('BLOCKED instance');process.exit(0)}});\
         s.on('timeout',()=>{{console.log('BLOCKED instance');process.exit(0)}})\"; mkdir -p dist && echo x > dist/index.html"
    );
    let other = ada
        .deployable(
            &server,
            "neighbour",
            "static",
            &[("index.html", "x")],
            crate::support::deploy::static_build(&probe),
        )
        .await;
    let built = ada
        .finished(ada.deploy(&other).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(built["status"], "ready", "{built}");
    let lines = ada.log_lines(built["id"].as_str().expect("id")).await;
    let said: Vec<&str> = lines.iter().filter_map(|l| l["line"].as_str()).collect();
    assert!(said.contains(&"BLOCKED instance"), "{said:?}");
    assert!(!said.contains(&"REACHED instance"), "{said:?}");
}
