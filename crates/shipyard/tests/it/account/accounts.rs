//! Signup, login, logout, `/auth/me`, the Origin check and login throttling.

use crate::support::{PASSWORD, TestServer, assert_error};
use reqwest::Method;
use serde_json::json;
use shipyard_client::types::account::AuthMethod;

#[tokio::test]
async fn first_signup_is_platform_admin_then_signup_closes() {
    let server = TestServer::in_process(&[]);
    let (ada, me) = server.signup("Ada@Example.com", "Acme Corp").await;
    assert_eq!(me.user.email, "ada@example.com", "emails are normalised");
    assert!(me.user.is_platform_admin);
    assert_eq!(me.auth_method, AuthMethod::Session);
    let membership = &me.memberships[0];
    assert_eq!(
        (membership.tenant_name.as_str(), membership.tenant_slug.as_str()),
        ("Acme Corp", "acme-corp")
    );
    assert_eq!(membership.role, shipyard_core::Role::Owner);
    assert!(membership.tenant_id.starts_with("ten_"));
    assert_eq!(ada.me().await.expect("me").user.id, me.user.id);

    let closed = server
        .client()
        .post(
            "/auth/signup",
            &json!({ "email": "bob@example.com", "password": PASSWORD }),
        )
        .await
        .expect("request");
    assert_error(&closed, 403);
    assert!(
        closed.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("signup is closed"))
    );
}

#[tokio::test]
async fn allow_signup_keeps_it_open_without_more_admins_and_dedupes_slugs() {
    let server = TestServer::in_process(&["--allow-signup"]);
    server.signup("ada@example.com", "Acme").await;
    let (_, bob) = server.signup("bob@example.com", "Acme").await;
    assert!(!bob.user.is_platform_admin);
    let slug = bob.memberships[0].tenant_slug.as_str();
    assert!(
        slug.starts_with("acme-") && slug != "acme",
        "clashing slug gets a suffix: {slug}"
    );

    let dup = server
        .client()
        .post(
            "/auth/signup",
            &json!({ "email": "BOB@example.com", "password": PASSWORD }),
        )
        .await
        .expect("request");
    assert_error(&dup, 409);
}

#[tokio::test]
async fn signup_validates_every_field() {
    let server = TestServer::in_process(&[]);
    let client = server.client();
    for (body, field) in [
        (json!({ "email": "not-an-email", "password": PASSWORD }), "email"),
        (json!({ "email": "a@example.com", "password": "short" }), "password"),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "name": "  " }),
            "name",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "workspaceName": "x".repeat(101) }),
            "workspaceName",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "workspace": "typo" }),
            "workspace",
        ),
        (json!({ "email": 42, "password": PASSWORD }), "email"),
        (json!({ "password": PASSWORD }), "email"),
    ] {
        let response = client.post("/auth/signup", &body).await.expect("request");
        assert_error(&response, 400);
        let message = response.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "message for {body} should name `{field}`: {message}"
        );
    }
    // Nothing was half-written: the first real signup still becomes admin.
    let (_, me) = server.signup("ada@example.com", "Acme").await;
    assert!(me.user.is_platform_admin);
}

#[tokio::test]
async fn login_logout_and_wrong_passwords() {
    let server = TestServer::in_process(&[]);
    server.signup("ada@example.com", "Acme").await;
    let client = server.client();
    let session = client.login("ADA@example.com", PASSWORD).await.expect("login");
    assert_eq!(session.me().await.expect("me").auth_method, AuthMethod::Session);

    for (email, password) in [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("ada@example.com", "x"),
    ] {
        let response = client
            .post("/auth/login", &json!({ "email": email, "password": password }))
            .await
            .expect("request");
        assert_error(&response, 401);
        assert_eq!(
            response.body["message"], "email or password is incorrect",
            "same answer, no account probing"
        );
    }

    let out = session.call(Method::POST, "/auth/logout", None).await.expect("logout");
    assert_eq!(out.status, 204);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .is_ok_and(|c| c.contains("Max-Age=0"))
    );
    assert_error(&session.get("/auth/me").await.expect("request"), 401);
    assert_error(
        &client.with_session("forged").get("/auth/me").await.expect("request"),
        401,
    );
}

#[tokio::test]
async fn login_attempts_are_throttled_per_account() {
    let server = TestServer::in_process(&[]);
    server.signup("ada@example.com", "Acme").await;
    let client = server.client();
    let wrong = json!({ "email": "ada@example.com", "password": "wrong password" });
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(client.post("/auth/login", &wrong).await.expect("request"));
    }
    assert!(
        statuses[..10].iter().all(|r| r.status == 401),
        "first ten are ordinary failures"
    );
    let limited = statuses.last().expect("twelve answers");
    assert_error(limited, 429);
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Even the right password waits: the budget is per account, not per outcome.
    let right = client
        .post(
            "/auth/login",
            &json!({ "email": "ada@example.com", "password": PASSWORD }),
        )
        .await
        .expect("request");
    assert_error(&right, 429);
    // Other accounts are unaffected.
    let other = client
        .post(
            "/auth/login",
            &json!({ "email": "bob@example.com", "password": PASSWORD }),
        )
        .await
        .expect("request");
    assert_error(&other, 401);
}

#[tokio::test]
async fn cookie_writes_from_foreign_origins_are_refused() {
    let server = TestServer::in_process(&[]);
    let (ada, _) = server.signup("ada@example.com", "Acme").await;
    let body = json!({ "name": "from a page" });
    let attempt = |origin: Option<&str>| {
        let mut req = ada.request(Method::POST, "/account/api-tokens").json(&body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        ada.send(req)
    };
    let foreign = attempt(Some("http://evil-app.acme.localhost:8080"))
        .await
        .expect("request");
    assert_error(&foreign, 403);
    assert!(foreign.body["message"].as_str().is_some_and(|m| m.contains("evil-app")));
    assert_eq!(
        attempt(Some(&server.base)).await.expect("request").status,
        201,
        "same origin passes"
    );
    assert_eq!(
        attempt(Some("http://localhost:8080")).await.expect("request").status,
        201,
        "platform host passes"
    );
    assert_eq!(
        attempt(None).await.expect("request").status,
        201,
        "no Origin (curl) passes"
    );
    // Reads are not writes.
    let read = ada
        .send(
            ada.request(Method::GET, "/auth/me")
                .header("origin", "http://evil.example"),
        )
        .await
        .expect("request");
    assert_eq!(read.status, 200);
}
