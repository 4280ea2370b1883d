//! Verify through real DNS, the edge serving a verified domain only, where a domain points,
//! one workspace per hostname, and a resolver that never answers.

use crate::support::deploy::{Deployable, static_build};
use crate::support::dns::{DnsServer, SilentResolver};
use crate::support::edge::fetch;
use crate::support::{Tenant, TestServer, assert_error};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// This server's public address in these tests (TEST-NET-1: never routed anywhere).
const PUBLIC: &str = "192.0.2.10";

fn domains_path(t: &Tenant, project: &str) -> String {
    format!("/tenants/{}/projects/{project}/domains", t.tenant_id)
}

async fn add(t: &Tenant, project: &str, hostname: &str) -> Value {
    t.post_ok(&domains_path(t, project), &json!({ "hostname": hostname }))
        .await
}

async fn verify(t: &Tenant, project: &str, domain: &Value) -> shipyard_client::ApiResponse {
    let path = format!(
        "{}/{}/verify",
        domains_path(t, project),
        domain["id"].as_str().expect("id")
    );
    t.token.post(&path, &json!({})).await.expect("verify")
}

async fn verified_ok(t: &Tenant, project: &str, domain: &Value) -> Value {
    let answer = verify(t, project, domain).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[tokio::test]
async fn a_domain_is_served_only_once_its_txt_record_proves_it_and_never_after_delete() {
    let dns = DnsServer::start().await;
    let server = TestServer::in_process(&["--dns-resolver", &dns.dns, "--public-address", PUBLIC, "--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let build = static_build("mkdir -p dist && echo 'shop page' > dist/index.html");
    let site = ada
        .deployable(&server, "shop", "static", &[("index.html", "x")], build)
        .await;
    let deployed = ada.deploy(&site).await;
    assert_eq!(
        ada.finished(deployed["id"].as_str().expect("id"), 120).await["status"],
        "ready"
    );
    let live = ada.live_host_of(&site).await;
    assert_eq!(
        fetch(&server, &live, "/", &[]).await.status,
        200,
        "positive control: the live host serves"
    );

    let shop = add(&ada, &site.project_id, "Shop.Example.com").await;
    assert_eq!(shop["hostname"], "shop.example.com");
    assert_eq!(shop["status"], "pending");
    assert_eq!(shop["environmentId"], site.environment_id.as_str());
    assert_eq!(shop["verification"]["type"], "TXT");
    assert_eq!(shop["verification"]["name"], "_shipyard-challenge.shop.example.com");
    let value = shop["verification"]["value"].as_str().expect("value").to_owned();
    assert!(value.len() >= 32, "a random value: {value}");
    let expected = &shop["dns"]["expected"];
    assert_eq!(
        expected[0],
        json!({ "type": "CNAME", "name": "shop.example.com", "value": live })
    );
    assert_eq!(
        expected[1],
        json!({ "type": "A", "name": "shop.example.com", "value": PUBLIC })
    );
    let unproven = fetch(&server, "shop.example.com", "/", &[]).await;
    assert_eq!(
        unproven.status,
        421,
        "a pending domain is not served: {}",
        unproven.text()
    );

    // No record, then a wrong one: failed, saying what the resolver saw.
    let none = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(none["status"], "failed");
    let why = none["error"].as_str().expect("error");
    assert!(
        why.starts_with("no TXT record at _shipyard-challenge.shop.example.com"),
        "{why}"
    );
    dns.set_txt("_shipyard-challenge.shop.example.com", "abc-not-it").await;
    let wrong = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(wrong["status"], "failed");
    assert_eq!(
        wrong["error"],
        format!("found TXT \"abc-not-it\" at _shipyard-challenge.shop.example.com, expected \"{value}\"")
    );
    assert_eq!(fetch(&server, "shop.example.com", "/", &[]).await.status, 421);

    // The right record: verified and served at once, listed on the runtime endpoint.
    dns.set_txt("_shipyard-challenge.shop.example.com", &value).await;
    let proven = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(proven["status"], "verified", "{proven}");
    assert!(proven["verifiedAt"].is_string());
    assert_eq!(proven["dns"]["pointsHere"], false, "no A or CNAME record yet");
    let served = fetch(&server, "shop.example.com", "/", &[]).await;
    assert_eq!(served.status, 200, "{}", served.text());
    assert_eq!(served.text().trim(), "shop page");
    // Verified stays verified for a grace: a record removed later does not take a live site
    // down at once, but the domain says so.
    dns.clear_txt("_shipyard-challenge.shop.example.com").await;
    let lapsing = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(lapsing["status"], "verified");
    let note = lapsing["error"].as_str().expect("a note");
    assert!(
        note.contains("is gone (no TXT record") && note.contains("unless it returns"),
        "{note}"
    );
    dns.set_txt("_shipyard-challenge.shop.example.com", &value).await;
    assert_eq!(verified_ok(&ada, &site.project_id, &shop).await["error"], Value::Null);
    let runtime = ada.runtime_view(&site).await;
    assert_eq!(runtime["domains"][0]["hostname"], "shop.example.com", "{runtime}");
    assert_eq!(runtime["domains"][0]["status"], "verified");

    // pointsHere follows the A record: another address first, then this server's.
    dns.add_a("shop.example.com", &["198.51.100.7"]).await;
    let elsewhere = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(elsewhere["dns"]["pointsHere"], false);
    assert_eq!(
        elsewhere["dns"]["observed"],
        json!([{ "type": "A", "name": "shop.example.com", "value": "198.51.100.7" }])
    );
    dns.add_a("shop.example.com", &[PUBLIC]).await;
    let mixed = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(mixed["dns"]["observed"].as_array().map(Vec::len), Some(2), "{mixed}");
    assert_eq!(
        mixed["dns"]["pointsHere"], false,
        "one stray address sends visitors elsewhere"
    );
    dns.clear_a("shop.example.com").await;
    dns.add_a("shop.example.com", &[PUBLIC]).await;
    let here = verified_ok(&ada, &site.project_id, &shop).await;
    assert_eq!(here["dns"]["pointsHere"], true, "{here}");
    assert_eq!(here["status"], "verified");

    // A CNAME to the live host points here too; and the background re-check looks at a new
    // domain without anyone calling verify.
    dns.set_cname("www.example.com", &live).await;
    let www = add(&ada, &site.project_id, "www.example.com").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let looked = loop {
        let listed = ada
            .token
            .get(&domains_path(&ada, &site.project_id))
            .await
            .expect("list");
        let www_now = listed.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|d| d["id"] == www["id"])
            .cloned()
            .expect("www listed");
        if www_now["dns"]["checkedAt"].is_string() || Instant::now() > deadline {
            break www_now;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(looked["dns"]["pointsHere"], true, "{looked}");
    assert_eq!(looked["status"], "pending", "the re-check proves nothing by itself");

    // Another workspace may add the hostname, but not verify it while Ada holds it.
    let bob = server.tenant("bob@example.com", "Bobs").await;
    let bob_site = bob
        .deployable(
            &server,
            "bobshop",
            "static",
            &[("index.html", "x")],
            static_build("mkdir -p dist && echo bob > dist/index.html"),
        )
        .await;
    let bobs = add(&bob, &bob_site.project_id, "shop.example.com").await;
    let bobs_value = bobs["verification"]["value"].as_str().expect("value");
    assert_ne!(bobs_value, value, "a random value per domain");
    dns.set_txt("_shipyard-challenge.shop.example.com", bobs_value).await;
    assert_error(&verify(&bob, &bob_site.project_id, &bobs).await, 409);
    // The same hostname twice in one project is 409 too.
    let again = ada
        .token
        .post(
            &domains_path(&ada, &site.project_id),
            &json!({ "hostname": "shop.example.com" }),
        )
        .await
        .expect("add again");
    assert_error(&again, 409);

    // Delete: not served at once; then Bob can have it.
    let path = format!(
        "{}/{}",
        domains_path(&ada, &site.project_id),
        shop["id"].as_str().expect("id")
    );
    let deleted = ada.token.delete(&path).await.expect("delete");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(fetch(&server, "shop.example.com", "/", &[]).await.status, 421);
    assert_eq!(
        verified_ok(&bob, &bob_site.project_id, &bobs).await["status"],
        "verified"
    );
    // Bob's site has no release yet: nothing is served there (and nothing of Ada's).
    assert_eq!(fetch(&server, "shop.example.com", "/", &[]).await.status, 421);

    // Deleting a project stops serving its verified domains at once.
    dns.set_txt(
        "_shipyard-challenge.www.example.com",
        www["verification"]["value"].as_str().expect("value"),
    )
    .await;
    assert_eq!(verified_ok(&ada, &site.project_id, &www).await["status"], "verified");
    assert_eq!(fetch(&server, "www.example.com", "/", &[]).await.status, 200);
    ada.delete_project(&site).await;
    assert_eq!(fetch(&server, "www.example.com", "/", &[]).await.status, 421);
}

/// A server whose resolver never answers, a tenant and a deployable static site of theirs (the
/// resolver lives as long as the first of these is held).
async fn behind_a_silent_resolver() -> (SilentResolver, TestServer, Tenant, Deployable) {
    let silent = SilentResolver::bind();
    let server = TestServer::in_process(&["--dns-resolver", &silent.addr]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let site = ada
        .deployable(&server, "shop", "static", &[("index.html", "x")], Value::Null)
        .await;
    (silent, server, ada, site)
}

#[tokio::test]
async fn a_resolver_that_never_answers_fails_the_verify_within_six_seconds_saying_so() {
    let (_silent, _server, ada, site) = behind_a_silent_resolver().await;
    let shop = add(&ada, &site.project_id, "shop.example.com").await;
    let started = Instant::now();
    let answer = verified_ok(&ada, &site.project_id, &shop).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "verify took {took:?}");
    assert_eq!(answer["status"], "failed");
    let why = answer["error"].as_str().expect("error");
    assert!(why.contains("did not answer in 5 s"), "{why}");
    assert_eq!(answer["dns"]["error"], "the resolver did not answer in 5 s");
}

#[tokio::test]
async fn dns_looks_are_capped_server_wide_and_a_verify_past_the_cap_is_429() {
    // A tenant points many names at a nameserver that never answers, each look holding sockets
    // for 5 s: at most MAX_LOOKS (32) run at once, the rest are refused at once.
    let (_silent, _server, ada, site) = behind_a_silent_resolver().await;
    let mut domains = Vec::new();
    for i in 0..40 {
        domains.push(add(&ada, &site.project_id, &format!("d{i}.example.com")).await);
    }
    let answers = futures_util::future::join_all(domains.iter().map(|d| verify(&ada, &site.project_id, d))).await;
    let looked: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(looked.len() + refused.len(), answers.len(), "only 200 or 429");
    assert!(looked.len() <= 32, "{} looks ran at once", looked.len());
    assert!(refused.len() >= 8, "{} refused", refused.len());
    for answer in &refused {
        assert_error(answer, 429);
        assert!(answer.headers.contains_key("retry-after"), "{:?}", answer.headers);
    }
    // Positive control: the looks that had a slot ran and said what happened.
    assert!(!looked.is_empty());
    for answer in &looked {
        assert_eq!(answer.body["status"], "failed", "{}", answer.body);
    }
}
