//! Red team (#29): what a stranger on the internet can make the platform store or hold through
//! an app's access log. Huge request fields are cut to their bounds, every page of the log is
//! bounded in bytes, the server's memory stays bounded through the flood, and another
//! workspace's app keeps every one of its entries.

use crate::support::deploy::Deployable;
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The most one page of a log may weigh as JSON: 1 MiB of line text (the store's page bound),
/// its last line, and what JSON adds around the items.
const PAGE_LIMIT: usize = 2 << 20;

async fn static_site(server: &TestServer, tenant: &Tenant, name: &str) -> (Deployable, String) {
    let files = [("site/index.html", "<h1>home</h1>")];
    let build = json!({ "build": { "buildCommand": "cp -r site dist", "outputDirectory": "dist" } });
    let app = tenant.deployable(server, name, "static", &files, build).await;
    let done = tenant
        .finished(tenant.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let host = tenant.live_host_of(&app).await;
    (app, host)
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
    let (flood_app, flood_host) = static_site(&server, &mallory, "flood").await;
    let (quiet_app, quiet_host) = static_site(&server, &ada, "quiet").await;
    let before = server.peak_rss_kib();

    // 500 POSTs, each with a 380 KB User-Agent and a 6 KB path: 190 MB the log could be made
    // to keep, and a page of 10,000 could be made to build at once.
    const FLOOD: usize = 500;
    const QUIET: usize = 40;
    let user_agent = "A".repeat(380_000);
    let long_path = format!("/{}", "p".repeat(6000));
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
}
