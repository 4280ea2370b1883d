//! Which hosts reach the API (a rebinding page does not), the Origin check on login and
//! logout, whose address a request comes from (`--trusted-proxy`), and the login limiter's
//! memory under a flood of huge emails.

use crate::support::{PASSWORD, TestServer, assert_error};
use reqwest::Method;
use serde_json::{Value, json};

async fn post_with(
    server: &TestServer,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> shipyard_client::ApiResponse {
    let client = server.client();
    let mut req = client.request(Method::POST, path).json(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    client.send(req).await.expect("request")
}

#[tokio::test]
async fn a_rebinding_host_gets_421_and_cannot_take_the_first_signup() {
    let server = TestServer::in_process(&[]);
    let signup = json!({ "email": "mallory@example.com", "password": PASSWORD, "workspaceName": "Evil" });
    let rebound = post_with(&server, "/auth/signup", &signup, &[("host", "rebind.example")]).await;
    assert_error(&rebound, 421);
    assert_eq!(rebound.body["error"], "Misdirected Request");
    let message = rebound.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("rebind.example") && message.contains("localhost"),
        "{message}"
    );
    for host in ["rebind.example:8080", "localhost.rebind.example", "127.0.0.1.nip.io"] {
        let client = server.client();
        let response = client
            .send(client.request(Method::GET, "/healthz").header("host", host))
            .await
            .expect("request");
        assert_eq!(response.status, 421, "{host}");
    }
    // Positive controls: localhost and the address with its port reach the API, and the first
    // signup is still free (so it becomes the platform admin).
    let port = server.base.rsplit(':').next().expect("port").to_owned();
    for host in [
        "localhost".to_owned(),
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
    ] {
        let client = server.client();
        let response = client
            .send(client.request(Method::GET, "/healthz").header("host", host.as_str()))
            .await
            .expect("request");
        assert_eq!(response.status, 200, "{host}");
    }
    let first = post_with(
        &server,
        "/auth/signup",
        &json!({ "email": "ada@example.com", "password": PASSWORD }),
        &[],
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.body["user"]["isPlatformAdmin"], true);
}

#[tokio::test]
async fn login_and_logout_from_a_foreign_page_are_refused() {
    let server = TestServer::in_process(&[]);
    server.signup("ada@example.com", "Acme").await;
    let login = json!({ "email": "ada@example.com", "password": PASSWORD });
    for path in ["/auth/login", "/auth/logout"] {
        let foreign = post_with(&server, path, &login, &[("origin", "http://evil.example")]).await;
        assert_error(&foreign, 403);
        assert!(foreign.headers.get("set-cookie").is_none(), "{path} set no cookie");
    }
    // Positive controls: the server's own origin and no Origin (curl) pass.
    let base = server.base.clone();
    assert_eq!(
        post_with(&server, "/auth/login", &login, &[("origin", &base)])
            .await
            .status,
        200
    );
    assert_eq!(post_with(&server, "/auth/login", &login, &[]).await.status, 200);
    assert_eq!(
        post_with(&server, "/auth/logout", &json!({}), &[("origin", &base)])
            .await
            .status,
        204
    );
}

/// Sends failing logins (a password too short to hash, an email that is no key) until the
/// per-address budget of 100 (refilled at one a second) is spent; returns the 429's message.
async fn exhaust_address_budget(server: &TestServer, forwarded: impl Fn(usize) -> String) -> String {
    let body = json!({ "email": "not-an-email", "password": "x" });
    for i in 0..300 {
        let xff = forwarded(i);
        let response = post_with(server, "/auth/login", &body, &[("x-forwarded-for", &xff)]).await;
        if response.status == 429 {
            assert!(i >= 100, "the budget is 100 attempts, spent after {i}");
            return response.body["message"].as_str().unwrap_or_default().to_owned();
        }
        assert_eq!(response.status, 401, "{}", response.body);
    }
    panic!("300 attempts were not throttled");
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    // Nobody trusted: a client that rotates X-Forwarded-For is still one address.
    let direct = TestServer::in_process(&[]);
    let message = exhaust_address_budget(&direct, |i| format!("198.51.100.{i}")).await;
    assert!(message.contains("from 127.0.0.1"), "{message}");

    // Loopback trusted as a proxy: the forwarded client is the key.
    let proxied = TestServer::in_process(&["--trusted-proxy", "127.0.0.1/32"]);
    let message = exhaust_address_budget(&proxied, |_| "203.0.113.5, 198.51.100.7".to_owned()).await;
    assert!(
        message.contains("from 198.51.100.7"),
        "the last untrusted hop: {message}"
    );
    let other = post_with(
        &proxied,
        "/auth/login",
        &json!({ "email": "not-an-email", "password": "x" }),
        &[("x-forwarded-for", "198.51.100.8")],
    )
    .await;
    assert_eq!(other.status, 401, "another client has its own budget");
}

#[tokio::test]
async fn huge_distinct_emails_do_not_grow_the_login_limiter() {
    // A denial-of-service guard with a generous bound, not a timing test.
    let server = TestServer::start(&[]);
    assert_eq!(server.client().get("/healthz").await.expect("request").status, 200);
    let before = server.peak_rss_kib();
    let padding = "a".repeat(900 * 1024);
    let mut limited = 0;
    for i in 0..200 {
        let body = json!({ "email": format!("{i}{padding}@example.com"), "password": "wrong password" });
        let response = post_with(&server, "/auth/login", &body, &[]).await;
        assert!(matches!(response.status, 401 | 429), "{}", response.status);
        limited += usize::from(response.status == 429);
    }
    assert!(limited > 0, "positive control: the flood reached the limiter");
    let after = server.peak_rss_kib();
    assert!(
        after < before + 40 * 1024,
        "peak resident memory grew from {before} KiB to {after} KiB"
    );
}
