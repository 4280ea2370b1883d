//! Every hostname rule is a 400 naming it; Unicode names are kept as punycode and shown both
//! ways; the environment a domain serves is the caller's to name.

use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};

#[tokio::test]
async fn every_hostname_rule_is_a_400_naming_it_and_an_idna_name_round_trips() {
    let server = TestServer::in_process(&[
        "--platform-host",
        "console.example.net",
        "--apps-domain",
        "apps.example.net",
    ]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let site = ada
        .deployable(&server, "shop", "static", &[("index.html", "x")], Value::Null)
        .await;
    let path = format!("/tenants/{}/projects/{}/domains", ada.tenant_id, site.project_id);
    let long_label = format!("{}.example.com", "a".repeat(64));
    let long_name = format!("{}.com", vec!["b".repeat(60); 5].join("."));
    let cases: [(&str, &str); 14] = [
        ("", "empty"),
        ("a..example.com", "empty label"),
        ("*.example.com", "wildcard"),
        ("192.0.2.1", "IP address"),
        ("[2001:db8::1]", "IP address"),
        ("shop_1.example.com", "IDNA"),
        ("-shop.example.com", "IDNA"),
        (&long_label, "DNS allows 63"),
        (&long_name, "DNS allows 253"),
        ("intranet", "one label"),
        ("db.corp.internal", "special-use or private name"),
        ("x.apps.example.net\u{3002}", "under the apps domain"),
        ("console.example.net", "platform's own host"),
        ("web-production.acme.apps.example.net", "under the apps domain"),
    ];
    for (hostname, rule) in cases {
        let answer = ada
            .token
            .post(&path, &json!({ "hostname": hostname }))
            .await
            .expect("add");
        assert_error(&answer, 400);
        let message = answer.body["message"].as_str().expect("message");
        assert!(message.contains(rule), "{hostname:?}: {message}");
    }
    let wrong_type = ada.token.post(&path, &json!({ "hostname": 7 })).await.expect("add");
    assert_error(&wrong_type, 400);
    assert_eq!(
        ada.token.get(&path).await.expect("list").body["total"],
        0,
        "nothing refused was stored"
    );

    // A trailing dot is accepted and not kept; a Unicode name is stored as punycode.
    let unicode = ada.post_ok(&path, &json!({ "hostname": "Bücher.example." })).await;
    assert_eq!(unicode["hostname"], "xn--bcher-kva.example");
    assert_eq!(unicode["hostnameUnicode"], "bücher.example");
    assert_eq!(
        unicode["verification"]["name"],
        "_shipyard-challenge.xn--bcher-kva.example"
    );
    let same = ada
        .token
        .post(&path, &json!({ "hostname": "xn--bcher-kva.example" }))
        .await
        .expect("add");
    assert_error(&same, 409);

    // environmentId names one of the project's environments, or the add is refused.
    let staging = ada.add_environment(&site, "Staging").await;
    let on_staging = ada
        .post_ok(
            &path,
            &json!({ "hostname": "staging.example.com", "environmentId": staging }),
        )
        .await;
    assert_eq!(on_staging["environmentId"], staging.as_str());
    let foreign = ada
        .token
        .post(
            &path,
            &json!({ "hostname": "x.example.com", "environmentId": "env_nope" }),
        )
        .await
        .expect("add");
    assert_error(&foreign, 422);

    // Deleting the environment takes its domains.
    ada.delete_environment(&site, &staging).await;
    let listed = ada.token.get(&path).await.expect("list").body;
    let hostnames: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|d| d["hostname"].as_str())
        .collect();
    assert_eq!(hostnames, ["xn--bcher-kva.example"]);
}
