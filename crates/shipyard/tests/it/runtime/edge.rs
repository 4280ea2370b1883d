//! The listener: health, Host dispatch, error shapes of unknown routes, single-instance lock,
//! configuration sources and graceful shutdown.

use crate::support::{TestServer, assert_error, binary};
use reqwest::Method;
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test]
async fn healthz_answers_without_credentials() {
    let server = TestServer::start(&[]);
    let response = server.client().get("/healthz").await.expect("request");
    assert_eq!(response.status, 200);
    assert_eq!(response.body["status"], "ok");
    assert!(
        response.headers.contains_key("x-request-id"),
        "every answer carries a request id"
    );
}

#[tokio::test]
async fn hosts_under_the_apps_domain_get_a_404_page_naming_them() {
    let server = TestServer::start(&[]);
    let client = server.client();
    let app = client
        .send(
            client
                .request(Method::GET, "/auth/me")
                .header("host", "web-production.acme.localhost:8080"),
        )
        .await
        .expect("request");
    assert_eq!(app.status, 404);
    let page = app.body.as_str().expect("html page");
    assert!(page.contains("web-production.acme.localhost"), "{page}");
    assert!(page.contains("<html>"), "{page}");

    // The platform host and bare addresses reach the API (401 from /auth/me, not the page).
    for host in ["localhost:8080", "127.0.0.1"] {
        let api = client
            .send(client.request(Method::GET, "/auth/me").header("host", host))
            .await
            .expect("request");
        assert_error(&api, 401);
    }
}

#[tokio::test]
async fn custom_domains_split_platform_and_apps() {
    let server = TestServer::start(&[
        "--platform-host",
        "shipyard.example.test",
        "--apps-domain",
        "example.test",
    ]);
    let client = server.client();
    let platform = client
        .send(
            client
                .request(Method::GET, "/healthz")
                .header("host", "shipyard.example.test"),
        )
        .await
        .expect("request");
    assert_eq!(platform.status, 200);
    let app = client
        .send(
            client
                .request(Method::GET, "/healthz")
                .header("host", "web.acme.example.test"),
        )
        .await
        .expect("request");
    assert_eq!(app.status, 404);
    assert!(app.body.as_str().is_some_and(|p| p.contains("web.acme.example.test")));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_contract_shape() {
    let server = TestServer::start(&[]);
    let client = server.client();
    let missing = client.get("/no/such/route").await.expect("request");
    assert_error(&missing, 404);
    assert!(
        missing.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("/no/such/route"))
    );
    let wrong = client.call(Method::PUT, "/auth/me", None).await.expect("request");
    assert_error(&wrong, 405);
}

#[tokio::test]
async fn the_docs_page_and_document_are_served_offline() {
    let server = TestServer::start(&[]);
    let client = server.client();
    let doc = client.get("/openapi.json").await.expect("request");
    assert_eq!(doc.status, 200);
    assert_eq!(doc.body["info"]["title"], "Shipyard API");
    let page = client.get("/docs/").await.expect("request");
    assert_eq!(page.status, 200);
    assert!(
        page.body.as_str().is_some_and(|p| p.contains("swagger")),
        "docs page is Swagger UI"
    );
    // The page's script is served by us, not a CDN.
    let script = client.get("/docs/swagger-ui-bundle.js").await.expect("request");
    assert_eq!(script.status, 200);
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    let server = TestServer::start(&[]);
    let output = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("run second server");
    assert!(!output.status.success(), "second server must exit non-zero");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another `shipyard serve`"), "{stderr}");
    // Started again as it was (the same port), it names the data directory, not the port.
    let same_port = server.base.trim_start_matches("http://");
    let output = Command::new(binary())
        .args(["serve", "--listen", same_port, "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("run the server again");
    assert!(!output.status.success(), "the server started again must exit non-zero");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another `shipyard serve`"), "{stderr}");
    // The first one is unharmed.
    assert_eq!(server.client().get("/healthz").await.expect("request").status, 200);
}

#[tokio::test]
async fn sigterm_stops_the_server_cleanly_and_data_survives_a_restart() {
    let mut server = TestServer::start(&[]);
    server.signup("ada@example.com", "Acme").await;
    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    assert!(
        server.stderr().contains("shutdown signal received"),
        "{}",
        server.stderr()
    );

    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    let session = restarted
        .client()
        .login("ada@example.com", crate::support::PASSWORD)
        .await
        .expect("login after restart");
    assert_eq!(session.me().await.expect("me").memberships[0].tenant_name, "Acme");
}

#[tokio::test]
async fn settings_come_from_flags_over_environment_over_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("shipyard.toml");
    std::fs::write(
        &config,
        "apps-domain = \"file.test\"\nplatform-host = \"file-platform.test\"\n",
    )
    .expect("write");
    let mut child = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("SHIPYARD_PLATFORM_HOST", "env-platform.test")
        .args(["--apps-domain", "flag.test"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).expect("read line");
    // SIGTERM, so the server removes what it made on the host (its cgroup directories); SIGKILL
    // by PID only if it does not stop in 15 s.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.contains("API and console: env-platform.test"),
        "environment wins over file: {line}"
    );
    assert!(line.contains("apps: *.flag.test"), "flag wins over file: {line}");

    let bad = Command::new(binary())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--apps-domain",
            "not a host",
            "--data-dir",
        ])
        .arg(dir.path().join("data2"))
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--apps-domain"));
    for (flag, value) in [
        ("--idle-timeout", "0s"),
        ("--idle-timeout", "2h"),
        ("--header-timeout", "0s"),
    ] {
        let refused = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", flag, value, "--data-dir"])
            .arg(dir.path().join("data3"))
            .output()
            .expect("run");
        assert!(!refused.status.success(), "{flag} {value} is refused");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.starts_with(&format!("error: {flag} must be")),
            "{flag} {value}: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_or_idles_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start(&["--header-timeout", "2s"]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let exchange = |request: &'static str| {
        let addr = addr.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
            stream.write_all(request.as_bytes()).await.expect("write");
            let started = std::time::Instant::now();
            let mut answer = Vec::new();
            tokio::time::timeout(std::time::Duration::from_secs(20), stream.read_to_end(&mut answer))
                .await
                .expect("the server ends the connection")
                .expect("read");
            (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
        }
    };
    // Control: a whole request is answered.
    let (whole, _) = exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert!(whole.starts_with("HTTP/1.1 200"), "{whole}");
    // Half of its headers, then silence: the connection is closed once the time is up.
    let (half, after) = exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await;
    assert!(!half.contains(" 200 "), "never answered as if complete: {half}");
    assert!(
        after >= std::time::Duration::from_secs(1),
        "closed by the timeout, not at once: {after:?}"
    );
    // A kept-alive connection that sends nothing more is closed by the same timeout.
    let (idle, after) = exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
    assert!(idle.starts_with("HTTP/1.1 200"), "answered first: {idle}");
    assert!(
        after >= std::time::Duration::from_secs(1),
        "kept open for a next request, then closed: {after:?}"
    );
}
