//! Access logs (#14): every environment's requests with a status ≥ 400 or a method other than
//! GET, static and proxied, as JSON pages and live over SSE; a flood of 404s is answered in full
//! and every entry is either logged or counted as dropped; a runtime log past its line limit
//! says `truncatedBefore`.

use crate::support::deploy::{Deployable, SseReader};
use crate::support::edge::{edge_client, fetch, fetch_with};
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// `…/environments/<production>/access-logs` of `app`.
fn access_path(ada: &Tenant, app: &Deployable) -> String {
    format!(
        "/tenants/{}/projects/{}/environments/{}/access-logs",
        ada.tenant_id, app.project_id, app.environment_id
    )
}

/// Every stored entry of `app`'s access log, page by page.
async fn entries(ada: &Tenant, app: &Deployable) -> Vec<Value> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = ada
            .token
            .get(&format!("{}?after={after}&limit=10000", access_path(ada, app)))
            .await
            .expect("access logs")
            .ok()
            .expect("a page");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return all;
        }
        after = page["lastSeq"].as_i64().expect("lastSeq");
        all.extend(items);
    }
}

/// Polls `app`'s access log until `ok` holds of its entries (at most 30 s).
async fn entries_until(ada: &Tenant, app: &Deployable, what: &str, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = entries(ada, app).await;
        if ok(&all) {
            return all;
        }
        assert!(Instant::now() < deadline, "{what}: {all:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn static_site(server: &TestServer, ada: &Tenant) -> (Deployable, String) {
    let files = [("site/index.html", "<h1>home</h1>")];
    let build = json!({ "build": { "buildCommand": "cp -r site dist", "outputDirectory": "dist" } });
    let app = ada.deployable(server, "web", "static", &files, build).await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = ada.live_host_of(&app).await;
    (app, host)
}

#[tokio::test]
async fn a_static_sites_access_log_keeps_errors_and_writes_and_follows_live() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (app, host) = static_site(&server, &ada).await;
    let client = edge_client();
    assert_eq!(fetch(&server, &host, "/", &[]).await.status, 200);
    let missing = fetch_with(
        &client,
        &server,
        reqwest::Method::GET,
        &host,
        "/nope?token=s3cret",
        &[("user-agent", "probe/1")],
    )
    .await;
    assert_eq!(missing.status, 404);
    let post = fetch_with(&client, &server, reqwest::Method::POST, &host, "/", &[]).await;
    let all = entries_until(&ada, &app, "a 404 and a POST", |e| e.len() >= 2).await;
    assert_eq!(all.len(), 2, "the 200 GET is not logged: {all:?}");
    let (e404, epost) = (&all[0], &all[1]);
    assert_eq!(
        (e404["method"].as_str(), e404["path"].as_str(), e404["status"].as_u64()),
        (Some("GET"), Some("/nope"), Some(404)),
        "the query is not kept: {e404}"
    );
    assert_eq!(e404["userAgent"], "probe/1");
    assert_eq!(e404["clientIp"], "127.0.0.1");
    assert_eq!(e404["host"], host.as_str());
    assert_eq!(e404["bytes"].as_u64(), Some(missing.body.len() as u64), "{e404}");
    assert!(
        e404["durationMs"].is_u64() && e404["at"].is_string() && e404["seq"] == 1,
        "{e404}"
    );
    assert_eq!(
        (epost["method"].as_str(), epost["status"].as_u64()),
        (Some("POST"), Some(u64::from(post.status)))
    );

    // Live: a new 404 arrives on an open stream.
    let mut live = SseReader::open(&ada.token, &format!("{}/stream?after=2", access_path(&ada, &app)), None).await;
    assert_eq!(fetch(&server, &host, "/while-connected", &[]).await.status, 404);
    let frame = tokio::time::timeout(Duration::from_secs(20), live.next())
        .await
        .expect("a frame in time")
        .expect("a frame");
    assert_eq!(frame.data["type"], "log", "{:?}", frame.data);
    assert_eq!(frame.data["path"], "/while-connected");
    assert_eq!(frame.id.as_deref(), Some("3"));

    // A flood: every request answered, every entry logged or counted as dropped.
    const FLOOD: usize = 10_000;
    let answered: usize = {
        let tasks: Vec<_> = (0..50)
            .map(|c| {
                let (client, url, host) = (client.clone(), server.base.clone(), host.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    for i in 0..FLOOD / 50 {
                        let r = client
                            .get(format!("{url}/flood/{c}/{i}"))
                            .header("host", &host)
                            .send()
                            .await;
                        if r.is_ok_and(|r| r.status() == 404) {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("client task");
        }
        total
    };
    assert_eq!(answered, FLOOD, "every flood request got its 404");
    let flooded = |all: &[Value]| {
        all.iter()
            .filter(|e| e["path"].as_str().is_some_and(|p| p.starts_with("/flood/")))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (logged, dropped) = loop {
        let logged = flooded(&entries(&ada, &app).await);
        let dropped = ada.runtime_view(&app).await["accessLog"]["dropped"]
            .as_u64()
            .expect("dropped");
        if logged + dropped as usize >= FLOOD {
            break (logged, dropped);
        }
        assert!(
            Instant::now() < deadline,
            "{logged} logged + {dropped} dropped of {FLOOD}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(logged + dropped as usize, FLOOD, "{logged} logged, {dropped} dropped");
}

/// Prints `count` numbered lines at start, then answers `ok`; `/boom` answers 500.
fn chatty_js(count: u32) -> String {
    format!(
        "for (let i = 1; i <= {count}; i++) console.log('line ' + i);\n\
         require('http').createServer((q, r) => {{\n\
           if (q.url === '/boom') {{ r.statusCode = 500; r.end('boom'); return; }}\n\
           r.end('ok');\n\
         }}).listen(process.env.PORT, () => console.log('listening'));\n"
    )
}

#[tokio::test]
async fn a_proxied_apps_500_is_logged_and_a_runtime_log_past_its_limit_says_truncated_before() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (app, done) = ada
        .node_app_ready(&server, "chatty", &chatty_js(100_050), json!({}))
        .await;
    let host = ada.live_host_of(&app).await;
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "ok");
    assert_eq!(fetch(&server, &host, "/boom", &[]).await.status, 500);
    let all = entries_until(&ada, &app, "the 500", |e| !e.is_empty()).await;
    assert_eq!(all.len(), 1, "the 200 is not logged: {all:?}");
    assert_eq!(
        (all[0]["path"].as_str(), all[0]["status"].as_u64()),
        (Some("/boom"), Some(500))
    );

    // The release printed 100,050 lines and a few of the supervisor's: only the newest
    // 100,000 are kept, and a read from the start says where they begin.
    let release = done["releaseId"].as_str().expect("release");
    let path = format!("/tenants/{}/releases/{release}/runtime-logs", ada.tenant_id);
    let deadline = Instant::now() + Duration::from_secs(60);
    let page = loop {
        let page = ada
            .token
            .get(&format!("{path}?after=0&limit=10"))
            .await
            .expect("logs")
            .body;
        if page["truncatedBefore"].is_i64() {
            break page;
        }
        assert!(Instant::now() < deadline, "never truncated: {page}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let first = page["truncatedBefore"].as_i64().expect("seq");
    assert!(first > 50, "{page}");
    assert_eq!(
        page["items"][0]["seq"].as_i64(),
        Some(first),
        "the page starts at the oldest kept: {page}"
    );
    let tail = ada
        .token
        .get(&format!("{path}?after={}&limit=10", first + 5))
        .await
        .expect("logs")
        .body;
    assert!(
        tail.get("truncatedBefore").is_none(),
        "a read within what is kept is not truncated: {tail}"
    );
    let kept = ada
        .token
        .get(&format!("{path}?after={}&limit=10000", first - 1))
        .await
        .expect("logs")
        .body;
    assert_eq!(kept["items"].as_array().map(Vec::len), Some(10_000));
    let end = ada
        .token
        .get(&format!("{path}?after={}&limit=10000", first - 1 + 99_990))
        .await
        .expect("logs")
        .body;
    assert_eq!(
        end["items"].as_array().map(Vec::len),
        Some(10),
        "exactly 100,000 kept: {end}"
    );
}
