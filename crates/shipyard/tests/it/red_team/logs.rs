//! Red team (#29): what a stranger on the internet can make the platform store or hold through
//! an app's access log. Huge request fields are cut to their bounds, every page of the log is
//! bounded in bytes, the server's memory stays bounded through the flood, and another
//! workspace's app keeps every one of its entries. A workspace's logs in all stay within
//! `--log-bytes-per-workspace`, oldest lines first, and go with what owns them.

use crate::support::deploy::Deployable;
use crate::support::edge::{edge_client, fetch_with};
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The most one page of a log may weigh as JSON: 1 MiB of line text (the store's page bound),
/// its last line, and what JSON adds around the items.
const PAGE_LIMIT: usize = 2 << 20;

/// A static site of `tenant`, live: the app, its host and its deployment's id.
async fn static_site(server: &TestServer, tenant: &Tenant, name: &str) -> (Deployable, String, String) {
    let files = [("site/index.html", "<h1>home</h1>")];
    let build = json!({ "build": { "buildCommand": "cp -r site dist", "outputDirectory": "dist" } });
    let app = tenant.deployable(server, name, "static", &files, build).await;
    let done = tenant
        .finished(tenant.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = tenant.live_host_of(&app).await;
    let deployment = done["id"].as_str().expect("id").to_owned();
    (app, host, deployment)
}

/// Every entry of `app`'s access log, reading pages of up to 10,000 and checking each page's
/// size; also how many pages it took.
async fn all_entries(tenant: &Tenant, app: &Deployable) -> (Vec<Value>, usize) {
    let path = format!(
        "/tenants/{}/projects/{}/environments/{}/access-logs",
        tenant.tenant_id, app.project_id, app.environment_id
    );
    let (mut all, mut after, mut pages) = (Vec::new(), 0, 0);
    for _ in 0..1000 {
        let page = tenant
            .token
            .get(&format!("{path}?after={after}&limit=10000"))
            .await
            .expect("access logs")
            .ok()
            .expect("a page");
        let size = page.to_string().len();
        assert!(size <= PAGE_LIMIT, "one page weighs {size} bytes");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return (all, pages);
        }
        pages += 1;
        after = page["lastSeq"].as_i64().expect("lastSeq");
        all.extend(items);
    }
    panic!("the log never ended");
}

#[tokio::test]
async fn an_access_log_flood_of_huge_fields_is_cut_paged_within_bounds_and_costs_another_app_nothing() {
    // A denial-of-service guard with generous bounds, not a benchmark.
    let server = TestServer::start(&["--allow-signup"]);
    let mallory = server.tenant("mallory@example.com", "Flood").await;
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (flood_app, flood_host, _) = static_site(&server, &mallory, "flood").await;
    let (quiet_app, quiet_host, _) = static_site(&server, &ada, "quiet").await;
    let before = server.peak_rss_kib();

    // 500 POSTs, each with a 380 KB User-Agent and a 6 KB path: 190 MB the log could be made
    // to keep, and a page of 10,000 could be made to build at once.
    const FLOOD: usize = 500;
    const QUIET: usize = 40;
    let user_agent = "A".repeat(380_000);
    let long_path = format!("/{}", "p".repeat(6000));
    shipyard_client::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let quiet = {
        let (client, base, host) = (client.clone(), server.base.clone(), quiet_host.clone());
        tokio::spawn(async move {
            for i in 0..QUIET {
                let answer = client
                    .post(format!("{base}/quiet/{i}"))
                    .header("host", &host)
                    .header("user-agent", "quiet/1")
                    .send()
                    .await
                    .expect("the quiet app's request");
                assert!(answer.status().as_u16() >= 400, "a logged answer: {}", answer.status());
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let flooders: Vec<_> = (0..8)
        .map(|_| {
            let (client, base, host) = (client.clone(), server.base.clone(), flood_host.clone());
            let (user_agent, path) = (user_agent.clone(), long_path.clone());
            tokio::spawn(async move {
                let mut answered = 0;
                for _ in 0..FLOOD / 8 + 1 {
                    let sent = client
                        .post(format!("{base}{path}"))
                        .header("host", &host)
                        .header("user-agent", &user_agent)
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().as_u16() < 500) {
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    let mut sent = 0;
    for flooder in flooders {
        sent += flooder.await.expect("flooder");
    }
    quiet.await.expect("the quiet app's client");
    assert_eq!(sent, (FLOOD / 8 + 1) * 8, "every flood request was answered");

    // Every flood entry is logged or counted as dropped; the quiet app's are all logged.
    let deadline = Instant::now() + Duration::from_secs(90);
    let (flood, pages) = loop {
        let (flood, pages) = all_entries(&mallory, &flood_app).await;
        let dropped = mallory.runtime_view(&flood_app).await["accessLog"]["dropped"]
            .as_u64()
            .expect("dropped") as usize;
        if flood.len() + dropped >= sent {
            assert_eq!(flood.len() + dropped, sent, "{} logged, {dropped} dropped", flood.len());
            break (flood, pages);
        }
        assert!(
            Instant::now() < deadline,
            "{} logged + {dropped} dropped of {sent}",
            flood.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (entries, _) = all_entries(&ada, &quiet_app).await;
        if entries.len() == QUIET {
            assert!(entries.iter().all(|e| e["userAgent"] == "quiet/1"), "{entries:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the quiet app has {} of {QUIET}",
            entries.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        ada.runtime_view(&quiet_app).await["accessLog"]["dropped"],
        0,
        "the flood costs another workspace's app none of its entries"
    );

    // Each field is cut to its bound and says so; the pages stopped early and gave cursors.
    assert!(
        flood.len() > 350,
        "positive control: most of the flood is logged ({})",
        flood.len()
    );
    for entry in &flood {
        let (ua, path) = (
            entry["userAgent"].as_str().expect("user agent"),
            entry["path"].as_str().expect("path"),
        );
        assert!(
            ua.len() <= 512 && ua.starts_with("AAAA") && ua.ends_with('…'),
            "{}",
            ua.len()
        );
        assert!(
            path.len() <= 2048 && path.starts_with("/ppp") && path.ends_with('…'),
            "{}",
            path.len()
        );
    }
    assert!(
        pages >= 2,
        "{} entries came in {pages} page(s) of up to 10,000",
        flood.len()
    );

    let after = server.peak_rss_kib();
    assert!(
        after < before + 200 * 1024,
        "peak resident memory grew from {before} KiB to {after} KiB"
    );
    // The listener's caps and the open-files limit they fit in are in the server's log.
    let log = server.stderr();
    let caps = log.lines().find(|l| l.contains("connection caps")).unwrap_or_default();
    assert!(
        caps.contains("open_files=") && caps.contains("max_connections="),
        "{log}"
    );
}

/// Prints `count` lines of 1,000 characters at start, then answers `ok` and says `listening`.
fn flooding_js(count: u32) -> String {
    format!(
        "const line = 'x'.repeat(1000);\n\
         for (let i = 1; i <= {count}; i++) console.log(i + ' ' + line);\n\
         require('http').createServer((q, r) => r.end('ok'))\n\
           .listen(process.env.PORT, () => console.log('listening'));\n"
    )
}

/// Rows of `logs.db` in the server's data directory that `sql` counts.
fn count_in_logs_db(server: &TestServer, sql: &str) -> i64 {
    let db = server.layout().logs_database();
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])",
        ])
        .arg(&db)
        .arg(sql)
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a count")
}

/// Every stored line of a runtime log: its lines' bytes, its first seq and its text.
async fn runtime_log(tenant: &Tenant, release: &str) -> (usize, Option<i64>, String) {
    let path = format!("/tenants/{}/releases/{release}/runtime-logs", tenant.tenant_id);
    let (mut after, mut bytes, mut first, mut text) = (0, 0, None, String::new());
    for _ in 0..1000 {
        let page = tenant
            .token
            .get(&format!("{path}?after={after}&limit=10000"))
            .await
            .expect("runtime logs")
            .ok()
            .expect("a page");
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return (bytes, first, text);
        }
        first = first.or(items[0]["seq"].as_i64());
        for item in &items {
            let line = item["line"].as_str().unwrap_or_default();
            bytes += line.len();
            text.push_str(line);
            text.push('\n');
        }
        after = page["lastSeq"].as_i64().expect("lastSeq");
    }
    panic!("the log never ended");
}

#[tokio::test]
async fn a_workspaces_logs_stay_within_their_bound_oldest_first_and_go_with_their_owner() {
    const BOUND: usize = 1 << 20;
    let server = TestServer::start(&["--allow-signup", "--log-bytes-per-workspace", "1MiB"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobs").await;
    // 3 MB of output from one app: three times the workspace's bound.
    let (app, done) = ada
        .node_app_ready(&server, "chatty", &flooding_js(3000), json!({}))
        .await;
    let release = done["releaseId"].as_str().expect("release").to_owned();
    let (_, _, dep) = static_site(&server, &bob, "quiet").await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let (bytes, first, text) = loop {
        let (bytes, first, text) = runtime_log(&ada, &release).await;
        if text.contains("listening") && bytes <= BOUND {
            break (bytes, first, text);
        }
        assert!(
            Instant::now() < deadline,
            "{bytes} bytes of the runtime log kept (bound {BOUND}); listening: {}",
            text.contains("listening")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Positive control: the app's last lines are there, its first ones are gone, and a read from
    // the start says where what is kept begins.
    assert!(text.contains("3000 xxx") && !text.contains("\n1 xxx"), "{bytes} bytes");
    let first = first.expect("lines kept");
    assert!(first > 100, "the oldest lines went first (first kept: {first})");
    let page = ada
        .token
        .get(&format!(
            "/tenants/{}/releases/{release}/runtime-logs?after=0&limit=1",
            ada.tenant_id
        ))
        .await
        .expect("runtime logs")
        .body;
    assert_eq!(page["truncatedBefore"].as_i64(), Some(first), "{page}");
    // Another workspace's log is untouched.
    let log = bob
        .token
        .get(&format!("/tenants/{}/deployments/{dep}/logs?after=0", bob.tenant_id))
        .await
        .expect("log")
        .body;
    assert!(
        log.get("truncatedBefore").is_none() && log["items"][0]["seq"] == 1,
        "{log}"
    );

    // Deleting the project takes its logs with it: runtime and access logs (a POST is logged).
    let host = ada.live_host_of(&app).await;
    let post = fetch_with(&edge_client(), &server, reqwest::Method::POST, &host, "/", &[]).await;
    assert_eq!(post.status, 200);
    let stream = format!("runtime:{release}");
    let env_stream = format!("access:{}", app.environment_id);
    let count = |sql: String| count_in_logs_db(&server, &sql);
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(format!("SELECT COUNT(*) FROM log_lines WHERE stream = '{env_stream}'")) == 0 {
        assert!(
            Instant::now() < deadline,
            "positive control: the POST is in the access log"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(count(format!("SELECT COUNT(*) FROM log_lines WHERE stream = '{stream}'")) > 0);
    assert!(count(format!("SELECT COUNT(*) FROM log_streams WHERE stream = '{stream}'")) == 1);
    ada.delete_project(&app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = count(format!(
            "SELECT (SELECT COUNT(*) FROM log_lines WHERE stream IN ('{stream}', '{env_stream}'))
                  + (SELECT COUNT(*) FROM log_streams WHERE stream IN ('{stream}', '{env_stream}'))"
        ));
        if left == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{left} lines of the deleted project's logs remain"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
