//! `/admin/*`: platform admins' sessions only; quotas and suspension.

use crate::support::{PASSWORD, TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn admin_routes_need_a_platform_admins_session() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobco").await;

    let tenants = ada
        .session
        .get("/admin/tenants")
        .await
        .expect("request")
        .ok()
        .expect("admin lists tenants");
    assert_eq!(tenants["total"], 2);
    assert_eq!(tenants["items"][0]["deploysPerDay"], 100, "default quota");
    let users = ada
        .session
        .get("/admin/users")
        .await
        .expect("request")
        .ok()
        .expect("admin lists users");
    assert_eq!(users["total"], 2);

    for client in [&ada.token, &bob.session, &bob.token] {
        assert_error(&client.get("/admin/tenants").await.expect("request"), 403);
        assert_error(&client.get("/admin/users").await.expect("request"), 403);
        let patch = client
            .patch(
                &format!("/admin/tenants/{}", bob.tenant_id),
                &json!({ "suspended": true }),
            )
            .await;
        assert_error(&patch.expect("request"), 403);
    }
    assert_error(&server.client().get("/admin/users").await.expect("request"), 401);

    let made = ada
        .session
        .post(
            "/admin/users",
            &json!({ "email": "carol@example.com", "name": "Carol", "password": PASSWORD }),
        )
        .await;
    let made = made.expect("request");
    assert_eq!(made.status, 201);
    assert_eq!(
        (made.body["name"].as_str(), made.body["isPlatformAdmin"].as_bool()),
        (Some("Carol"), Some(false))
    );
    assert_error(
        &ada.session
            .post(
                "/admin/users",
                &json!({ "email": "carol@example.com", "password": PASSWORD }),
            )
            .await
            .expect("request"),
        409,
    );
    assert_error(
        &ada.session
            .post("/admin/users", &json!({ "email": "dan@example.com", "password": "x" }))
            .await
            .expect("request"),
        400,
    );
    let carol = server
        .client()
        .login("carol@example.com", PASSWORD)
        .await
        .expect("carol logs in");
    assert!(carol.me().await.expect("me").memberships.is_empty());
}

#[tokio::test]
async fn suspension_makes_a_workspace_read_only_and_quota_is_validated() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobco").await;
    let path = format!("/admin/tenants/{}", bob.tenant_id);

    let patched = ada
        .session
        .patch(&path, &json!({ "suspended": true, "deploysPerDay": 5 }))
        .await
        .expect("request");
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(
        (
            patched.body["suspended"].as_bool(),
            patched.body["deploysPerDay"].as_i64()
        ),
        (Some(true), Some(5))
    );

    let members = format!("/tenants/{}/members", bob.tenant_id);
    assert_eq!(
        bob.token.get(&members).await.expect("request").status,
        200,
        "reads still work"
    );
    let write = bob
        .token
        .post(&members, &json!({ "email": "ada@example.com", "role": "viewer" }))
        .await
        .expect("request");
    assert_error(&write, 403);
    assert!(write.body["message"].as_str().is_some_and(|m| m.contains("suspended")));

    assert_eq!(
        ada.session
            .patch(&path, &json!({ "suspended": false }))
            .await
            .expect("request")
            .body["deploysPerDay"],
        5
    );
    assert_eq!(
        bob.token
            .post(&members, &json!({ "email": "ada@example.com", "role": "viewer" }))
            .await
            .expect("request")
            .status,
        201
    );

    for bad in [
        json!({ "deploysPerDay": -1 }),
        json!({ "deploysPerDay": "many" }),
        json!({ "suspend": true }),
    ] {
        assert_error(&ada.session.patch(&path, &bad).await.expect("request"), 400);
    }
    assert_error(
        &ada.session
            .patch("/admin/tenants/ten_nope", &json!({}))
            .await
            .expect("request"),
        404,
    );
}
