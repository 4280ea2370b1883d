//! Certificates from a real ACME server (Debian's pebble) for verified domains: issued once the
//! domain is verified and points here, served over HTTPS with a chain that validates against
//! the CA's root, a failed validation reported with its reason and retried once the record is
//! right, and restarts that order nothing anew.

use crate::support::cli::logged_in;
use crate::support::deploy::{Deployable, static_build};
use crate::support::dns::DnsServer;
use crate::support::edge::fetch;
use crate::support::pebble::PebblePorts;
use crate::support::tls::{TestCa, handshake_loop, https_client, presented};
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use shipyard_store::{Backend, Certificates, SqliteStore};
use std::time::{Duration, Instant};

/// The domain's certificate once `done` says it is settled (bounded: 60 s).
async fn certificate_when(t: &Tenant, project: &str, hostname: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list = t
            .token
            .get(&format!("/tenants/{}/projects/{project}/domains", t.tenant_id))
            .await
            .expect("domains")
            .ok()
            .expect("domains");
        let domain = list["items"]
            .as_array()
            .and_then(|items| items.iter().find(|d| d["hostname"] == hostname).cloned())
            .expect("the domain");
        if done(&domain["certificate"]) {
            return domain;
        }
        assert!(
            Instant::now() < deadline,
            "certificate still {} after 60 s",
            domain["certificate"]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A static site `name` serving `page`, deployed and ready.
async fn static_site(server: &TestServer, t: &Tenant, name: &str, page: &str) -> Deployable {
    let build = static_build(&format!("mkdir -p dist && echo '{page}' > dist/index.html"));
    let site = t
        .deployable(server, name, "static", &[("index.html", "x")], build)
        .await;
    let deployed = t.deploy(&site).await;
    let done = t.finished(deployed["id"].as_str().expect("id"), 120).await;
    assert_eq!(done["status"], "ready", "{done}");
    site
}

/// Adds `hostname` to `project`, proves it through `dns`, points it at `address`, verifies it.
async fn add_verified(t: &Tenant, dns: &DnsServer, project: &str, hostname: &str, address: &str) -> Value {
    let domain = t
        .post_ok(
            &format!("/tenants/{}/projects/{project}/domains", t.tenant_id),
            &json!({ "hostname": hostname }),
        )
        .await;
    let proof = &domain["verification"];
    dns.set_txt(
        proof["name"].as_str().expect("name"),
        proof["value"].as_str().expect("value"),
    )
    .await;
    dns.add_a(hostname, &[address]).await;
    let path = format!(
        "/tenants/{}/projects/{project}/domains/{}/verify",
        t.tenant_id,
        domain["id"].as_str().expect("id")
    );
    let verified = t.token.post(&path, &json!({})).await.expect("verify");
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(verified.body["status"], "verified", "{}", verified.body);
    verified.body
}

#[tokio::test]
async fn a_verified_domain_gets_a_certificate_from_the_ca_and_restarts_order_nothing_anew() {
    let dns = DnsServer::start().await;
    let ca = TestCa::new();
    let ports = PebblePorts::new(&ca);
    let ca_root = ports.ca_root.to_string_lossy().into_owned();
    let directory = ports.directory.clone();
    let flags = [
        "--dns-resolver",
        &dns.dns,
        "--public-address",
        "127.0.0.1,127.0.0.2",
        "--listen-tls",
        "127.0.0.1:0",
        "--acme-directory",
        &directory,
        "--acme-ca-root",
        &ca_root,
    ];
    let server = TestServer::start(&flags);
    let pebble = ports.start(&ca, &dns, server.plain_port()).await;
    let ada = server.tenant("ada@example.com", "acme").await;
    let site = static_site(&server, &ada, "shop", "shop page").await;

    // Before it is verified, a domain has no certificate and nothing is ordered.
    let pending = ada
        .post_ok(
            &format!("/tenants/{}/projects/{}/domains", ada.tenant_id, site.project_id),
            &json!({ "hostname": "later.example.com" }),
        )
        .await;
    assert_eq!(pending["certificate"]["status"], "none", "{pending}");

    // Verified and pointing here: the CA validates through the edge and issues.
    let verified = add_verified(&ada, &dns, &site.project_id, "shop.example.com", "127.0.0.1").await;
    assert!(verified["dns"]["pointsHere"].as_bool().expect("pointsHere"));
    let issued = certificate_when(&ada, &site.project_id, "shop.example.com", |c| c["status"] != "pending").await;
    assert_eq!(issued["certificate"]["status"], "issued", "{issued}");
    let not_after = issued["certificate"]["notAfter"].clone();
    assert!(not_after.is_string(), "{issued}");

    // Served over HTTPS with a chain that validates against the CA's own root only.
    let root = pebble.issuing_root(&ca).await;
    let tls = server.tls_addr();
    let client = https_client(&root, &["shop.example.com"], tls);
    let answer = client
        .get(format!("https://shop.example.com:{}/", tls.port()))
        .send()
        .await
        .expect("the domain over HTTPS");
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["strict-transport-security"], "max-age=31536000");
    let served = presented(&answer);
    assert_eq!(answer.text().await.expect("body").trim(), "shop page");
    let moved = fetch(&server, "shop.example.com", "/", &[]).await;
    assert_eq!(moved.status, 308);
    assert_eq!(
        moved.header("location"),
        format!("https://shop.example.com:{}/", tls.port())
    );
    assert!(moved.headers.get("strict-transport-security").is_none());

    // A domain the CA cannot reach (its A record names an address the edge does not listen on,
    // though this server claims it): failed, with the CA's reason; right once the record is.
    add_verified(&ada, &dns, &site.project_id, "bad.example.com", "127.0.0.2").await;
    let failed = certificate_when(&ada, &site.project_id, "bad.example.com", |c| c["status"] == "failed").await;
    let why = failed["certificate"]["error"].as_str().expect("a reason").to_owned();
    assert!(why.contains("127.0.0.2") || why.contains("connection refused"), "{why}");
    dns.clear_a("bad.example.com").await;
    dns.add_a("bad.example.com", &["127.0.0.1"]).await;
    let again = format!(
        "/tenants/{}/projects/{}/domains/{}/verify",
        ada.tenant_id,
        site.project_id,
        failed["id"].as_str().expect("id")
    );
    assert_eq!(ada.token.post(&again, &json!({})).await.expect("verify").status, 200);
    let fixed = certificate_when(&ada, &site.project_id, "bad.example.com", |c| c["status"] == "issued").await;
    assert_eq!(fixed["certificate"]["error"], Value::Null, "{fixed}");
    let shell = logged_in(&server, &ada).await;
    let table = shell.run(&["domains", "list", "--project", "shop"]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let shop_row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("shop.example.com"))
        .unwrap_or_default();
    assert!(shop_row.contains("issued until 20"), "{}", table.stdout);
    let later_row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("later.example.com"))
        .unwrap_or_default();
    assert!(
        later_row.contains("HTTPS: ordered once the domain is verified"),
        "{}",
        table.stdout
    );

    // A forced renewal (an admin's) replaces the certificate while a bounded loop of fresh
    // handshakes runs: none fails, and the new certificate is served by the loop's end.
    let url = format!("https://shop.example.com:{}/", tls.port());
    let looping = handshake_loop(&root, "shop.example.com", tls, url, (300, Duration::from_millis(15)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let asked = ada
        .session
        .post("/admin/certificates/shop.example.com/renew", &json!({}))
        .await
        .expect("renew");
    assert_eq!(asked.status, 202, "{}", asked.body);
    let renewed = certificate_when(&ada, &site.project_id, "shop.example.com", |c| {
        c["notAfter"] != not_after
    })
    .await;
    assert_eq!(renewed["certificate"]["status"], "issued", "{renewed}");
    let (misses, seen) = looping.await.expect("the loop");
    assert!(
        misses.is_empty(),
        "{} failed: {:?}",
        misses.len(),
        &misses[..misses.len().min(3)]
    );
    assert_eq!(seen.first(), Some(&served), "the loop began with the first certificate");
    let last = seen.last().expect("answers").clone();
    assert_ne!(last, served, "the renewed certificate is served by the loop's end");
    let served = last;
    let unknown = ada
        .session
        .post("/admin/certificates/nowhere.example.com/renew", &json!({}))
        .await;
    assert_eq!(unknown.expect("renew").status, 404);
    let by_token = ada
        .token
        .post("/admin/certificates/shop.example.com/renew", &json!({}))
        .await;
    assert_eq!(by_token.expect("renew").status, 403, "admin routes take sessions only");

    // A deleted domain's certificate is no longer presented: positive control first.
    let bad = |tls: std::net::SocketAddr| {
        let root = root.clone();
        async move {
            https_client(&root, &["bad.example.com"], tls)
                .get(format!("https://bad.example.com:{}/", tls.port()))
                .send()
                .await
        }
    };
    assert!(bad(tls).await.is_ok(), "bad.example.com is served before its delete");
    let removed = ada
        .token
        .delete(&format!(
            "/tenants/{}/projects/{}/domains/{}",
            ada.tenant_id,
            site.project_id,
            failed["id"].as_str().expect("id")
        ))
        .await
        .expect("delete");
    assert_eq!(removed.status, 204);
    let deadline = Instant::now() + Duration::from_secs(10);
    while bad(tls).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the deleted domain's certificate is still presented after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Restarts: the stored certificates are presented at once, and nothing is ordered anew
    // (the ledger every order is written to before it is placed, read back).
    let orders = |server: &TestServer| {
        let database = server.layout().database();
        let directory = directory.clone();
        async move {
            let store = SqliteStore::open(&database).await.expect("open the database");
            let mut tx = store.read().await.expect("read");
            let since = chrono::Utc::now() - chrono::TimeDelta::days(1);
            tx.orders_since(&directory, "example.com", since)
                .await
                .expect("the ledger")
                .0
        }
    };
    let orders_before = orders(&server).await;
    assert_eq!(orders_before, 4, "shop, bad (failed), bad (issued), shop (renewed)");
    let mut server = server;
    for _ in 0..10 {
        assert!(server.terminate().success());
        let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
        server = TestServer::start_in(dir, &flags);
        let tls = server.tls_addr();
        let answer = https_client(&root, &["shop.example.com"], tls)
            .get(format!("https://shop.example.com:{}/", tls.port()))
            .send()
            .await
            .expect("the domain over HTTPS after a restart");
        assert_eq!(presented(&answer), served, "the same certificate");
    }
    assert_eq!(orders(&server).await, orders_before, "ten restarts placed no order");
}

#[tokio::test]
async fn with_acme_live_hosts_a_live_host_gets_a_certificate_of_its_own() {
    let dns = DnsServer::start().await;
    let ca = TestCa::new();
    let ports = PebblePorts::new(&ca);
    let ca_root = ports.ca_root.to_string_lossy().into_owned();
    let server = TestServer::start(&[
        "--dns-resolver",
        &dns.dns,
        "--apps-domain",
        "apps.example",
        "--acme-live-hosts",
        "--listen-tls",
        "127.0.0.1:0",
        "--acme-directory",
        &ports.directory.clone(),
        "--acme-ca-root",
        &ca_root,
    ]);
    let pebble = ports.start(&ca, &dns, server.plain_port()).await;
    // The operator's wildcard record for the apps domain, as the CA sees it.
    dns.add_a("web-production.acme.apps.example", &["127.0.0.1"]).await;
    let ada = server.tenant("ada@example.com", "acme").await;
    let site = static_site(&server, &ada, "web", "live page").await;

    let root = pebble.issuing_root(&ca).await;
    let tls = server.tls_addr();
    let host = "web-production.acme.apps.example";
    let deadline = Instant::now() + Duration::from_secs(90);
    let answer = loop {
        let tried = https_client(&root, &[host], tls)
            .get(format!("https://{host}:{}/", tls.port()))
            .send()
            .await;
        match tried {
            Ok(answer) => break answer,
            Err(e) => assert!(
                Instant::now() < deadline,
                "the live host has no certificate after 90 s: {e:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(answer.text().await.expect("body").trim(), "live page");
    let project = ada
        .token
        .get(&format!("/tenants/{}/projects/{}", ada.tenant_id, site.project_id))
        .await
        .expect("project")
        .ok()
        .expect("project");
    assert_eq!(
        project["environments"][0]["url"],
        format!("https://{host}:{}", tls.port())
    );
}
