//! The HTTPS listener with the operator's certificate (`--listen-tls`, `--tls-cert`,
//! `--tls-key`): the platform and apps over TLS (HTTP/2 by ALPN), the `__Host-` session cookie,
//! plain HTTP redirected for the hosts the certificate covers (ACME's challenge path
//! excepted), HSTS over HTTPS only, and a certificate replaced on disk presented without a
//! failed handshake.

use crate::support::cli::{Shell, run};
use crate::support::edge::{edge_client, fetch};
use crate::support::tls::{TestCa, handshake_loop, presented};
use crate::support::{PASSWORD, TestServer, binary};
use serde_json::json;
use std::time::Duration;

/// `serve` flags of an HTTPS listener on a free port presenting `cert` and `key`.
fn https_flags<'a>(cert: &'a str, key: &'a str) -> [&'a str; 6] {
    ["--listen-tls", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key]
}

#[tokio::test]
async fn the_platform_and_its_apps_answer_over_https_and_plain_http_is_sent_there() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().expect("tempdir");
    let issued = ca.issue(&["localhost", "*.acme.localhost"], certs.path(), "platform");
    let (cert, key) = (issued.cert.to_string_lossy(), issued.key.to_string_lossy());
    let server = TestServer::start(&https_flags(&cert, &key));
    let tls = server.tls_addr();
    let client = ca.client(
        &["localhost", "web-production.acme.localhost", "elsewhere.example"],
        tls,
    );
    let https = format!("https://localhost:{}", tls.port());

    // Signing in over HTTPS: HTTP/2 (ALPN), the __Host- cookie, HSTS. (The account is made
    // over plain HTTP at the IP literal, which no certificate covers.)
    let ada = server.tenant("ada@example.com", "acme").await;
    let login = client
        .post(format!("{https}/auth/login"))
        .json(&json!({ "email": "ada@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("login over HTTPS");
    assert_eq!(login.status(), 200);
    assert_eq!(login.version(), reqwest::Version::HTTP_2, "ALPN offers h2");
    assert_eq!(presented(&login), issued.der, "the operator's certificate is presented");
    let hsts = login.headers()["strict-transport-security"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(hsts, "max-age=31536000");
    let cookie = login.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.starts_with("__Host-shipyard_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "Path=/", "SameSite=Lax"] {
        assert!(cookie.split("; ").any(|a| a == attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    let session = cookie
        .split(';')
        .next()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("the cookie's value");

    // The cookie authenticates HTTPS requests under its own name only: one of the plain name
    // (which any page of a neighbour could plant over HTTP) does not, nor does the __Host- one
    // over plain HTTP.
    let me = |name: &'static str| {
        let (client, https, session) = (client.clone(), https.clone(), session.clone());
        async move {
            client
                .get(format!("{https}/auth/me"))
                .header("cookie", format!("{name}={session}"))
                .send()
                .await
                .expect("me")
                .status()
        }
    };
    assert_eq!(me("__Host-shipyard_session").await, 200);
    assert_eq!(me("shipyard_session").await, 401);
    // Over TLS a cookie-authenticated write must come from an HTTPS page of the platform: a
    // plain-HTTP page at the same host (someone on the network, before HSTS is known) is refused.
    let logout = |origin: String| {
        let (client, https, session) = (client.clone(), https.clone(), session.clone());
        async move {
            client
                .post(format!("{https}/auth/logout"))
                .header("cookie", format!("__Host-shipyard_session={session}"))
                .header("origin", origin)
                .send()
                .await
                .expect("logout")
                .status()
        }
    };
    assert_eq!(logout(format!("http://localhost:{}", tls.port())).await, 403);
    assert_eq!(
        me("__Host-shipyard_session").await,
        200,
        "the refused logout ended nothing"
    );
    let plain = edge_client();
    let over_http = plain
        .get(format!("{}/auth/me", server.base))
        .header("cookie", format!("__Host-shipyard_session={session}"))
        .send()
        .await
        .expect("me over HTTP");
    assert_eq!(over_http.status(), 401);
    assert!(
        over_http.headers().get("strict-transport-security").is_none(),
        "HSTS over HTTPS only"
    );

    // Plain HTTP for a covered host is redirected, path and query kept, the method too (308);
    // an uncovered host (the IP literal) and ACME's challenge path are not.
    let moved = fetch(&server, "localhost", "/healthz?probe=1", &[]).await;
    assert_eq!(moved.status, 308);
    assert_eq!(
        moved.header("location"),
        format!("https://localhost:{}/healthz?probe=1", tls.port())
    );
    assert!(moved.headers.get("strict-transport-security").is_none());
    let posted = plain
        .post(format!("{}/auth/login", server.base))
        .header("host", "localhost")
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), 308);
    let literal = plain
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        literal.status(),
        200,
        "an IP literal has no certificate: served as it is"
    );
    let challenge = fetch(&server, "localhost", "/.well-known/acme-challenge/token", &[]).await;
    assert_ne!(challenge.status, 308, "the CA asks for challenges over plain HTTP");

    // The CLI over HTTPS, trusting the CA through SSL_CERT_FILE as a company's private CA
    // would be; pointed at the plain address, it names the HTTPS one instead of following.
    let shell = Shell::new();
    let ca_file = certs.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.pem).expect("the CA file");
    let trust = [("SSL_CERT_FILE", ca_file.to_str().expect("utf-8 path"))];
    let (config, cwd) = (shell.config.path(), shell.cwd.path());
    let token = format!("{}\n", ada.token_secret);
    let login = run(config, cwd, &["login", "--server", &https], &token, &trust).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    let listed = run(config, cwd, &["projects", "list"], "", &trust).await;
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let plain_url = server.base.replace("127.0.0.1", "localhost");
    let with_token = [trust[0], ("SHIPYARD_TOKEN", ada.token_secret.as_str())];
    let redirected = run(
        config,
        cwd,
        &["projects", "list", "--server", &plain_url],
        "",
        &with_token,
    )
    .await;
    assert_ne!(redirected.code, 0);
    assert!(
        redirected
            .stderr
            .contains(&format!("the server answers at {https} instead")),
        "{}",
        redirected.stderr
    );

    // A name no certificate covers gets no certificate: the handshake fails.
    let elsewhere = client
        .get(format!("https://elsewhere.example:{}/", tls.port()))
        .send()
        .await;
    assert!(elsewhere.is_err(), "{elsewhere:?}");

    // An app behind the same certificate: served over HTTPS and told so (X-Forwarded-Proto),
    // its plain-HTTP URL redirected.
    let server_js = "require('http').createServer((q, r) => { r.setHeader('x-seen-proto', q.headers['x-forwarded-proto'] || ''); \
         r.end('hello'); }).listen(process.env.PORT);";
    let (app, _) = ada.node_app_ready(&server, "web", server_js, json!({})).await;
    let project = ada
        .token
        .get(&format!("/tenants/{}/projects/{}", ada.tenant_id, app.project_id))
        .await
        .expect("the project")
        .ok()
        .expect("the project");
    assert_eq!(
        project["environments"][0]["url"],
        format!("https://web-production.acme.localhost:{}", tls.port()),
        "the live URL is the HTTPS one"
    );
    let answered = client
        .get(format!("https://web-production.acme.localhost:{}/", tls.port()))
        .send()
        .await
        .expect("the app over HTTPS");
    assert_eq!(answered.status(), 200);
    assert_eq!(answered.headers()["x-seen-proto"], "https");
    assert_eq!(answered.headers()["strict-transport-security"], "max-age=31536000");
    assert_eq!(answered.text().await.expect("body"), "hello");
    let moved = fetch(&server, "web-production.acme.localhost", "/", &[]).await;
    assert_eq!(moved.status, 308);
    assert_eq!(
        moved.header("location"),
        format!("https://web-production.acme.localhost:{}/", tls.port())
    );
    // ACME's challenge path is the edge's alone on the plain listener: the app's catch-all
    // (which answers it over HTTPS, the positive control) never answers a forged token there.
    let challenge = "/.well-known/acme-challenge/forged-token";
    let over_tls = client
        .get(format!(
            "https://web-production.acme.localhost:{}{challenge}",
            tls.port()
        ))
        .send()
        .await
        .expect("the challenge path over HTTPS");
    assert_eq!(over_tls.text().await.expect("body"), "hello", "the app's catch-all");
    let plain_challenge = fetch(&server, "web-production.acme.localhost", challenge, &[]).await;
    assert_eq!(plain_challenge.status, 404);
    assert_ne!(plain_challenge.text(), "hello", "the app never answers a challenge");
    ada.delete_project(&app).await;

    // The platform's own HTTPS page may log out (and the cookie it clears is the __Host- one).
    assert_eq!(logout(https.clone()).await, 204);
    assert_eq!(me("__Host-shipyard_session").await, 401);
}

#[tokio::test]
async fn a_certificate_replaced_on_disk_is_presented_without_a_failed_handshake() {
    let ca = TestCa::new();
    let certs = tempfile::tempdir().expect("tempdir");
    let first = ca.issue(&["localhost"], certs.path(), "live");
    let (cert, key) = (first.cert.to_string_lossy(), first.key.to_string_lossy());
    let server = TestServer::start(&https_flags(&cert, &key));
    let tls = server.tls_addr();
    let client = ca.client(&["localhost"], tls);
    let url = format!("https://localhost:{}/healthz", tls.port());
    let answer = client.get(&url).send().await.expect("healthz over HTTPS");
    assert_eq!(presented(&answer), first.der);

    // Every request of a bounded loop makes a new handshake while the files change under it:
    // first the certificate alone (the old key does not go with it: the old pair stays), then
    // the key, written as renewal tools do (a new file renamed over the old one).
    let next = ca.issue(&["localhost"], certs.path(), "next");
    let looping = handshake_loop(&ca.pem, "localhost", tls, url.clone(), (400, Duration::from_millis(10)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    std::fs::rename(&next.cert, &first.cert).expect("the new certificate in place");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::rename(&next.key, &first.key).expect("the new key in place");
    let (failed, served) = looping.await.expect("the loop");
    assert!(
        failed.is_empty(),
        "{} failed requests: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert!(
        served.first() == Some(&first.der),
        "the loop began with the old certificate"
    );
    assert!(
        served.last() == Some(&next.der),
        "the new certificate is presented by the loop's end"
    );
    assert!(
        server
            .stderr()
            .contains("cannot be used; still presenting the one before"),
        "the half-written change was noticed"
    );

    // A broken file changes nothing: the certificate before it is still presented.
    std::fs::write(&first.cert, "not a certificate").expect("break the file");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let client = ca.client(&["localhost"], tls);
    let answer = client.get(&url).send().await.expect("healthz after a broken file");
    assert_eq!(presented(&answer), next.der);
}

#[test]
fn a_certificate_that_cannot_be_used_stops_the_start_saying_why() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let one = ca.issue(&["localhost"], dir.path(), "one");
    let other = ca.issue(&["localhost"], dir.path(), "other");
    let serve = |extra: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .args(extra)
            .output()
            .expect("run serve");
        assert!(!out.status.success(), "serve must refuse {extra:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let flags = |cert: &std::path::Path, key: &std::path::Path| {
        vec![
            "--listen-tls".as_ref(),
            "127.0.0.1:0".as_ref(),
            "--tls-cert".as_ref(),
            cert.as_os_str().to_owned().leak() as &std::ffi::OsStr,
            "--tls-key".as_ref(),
            key.as_os_str().to_owned().leak() as &std::ffi::OsStr,
        ]
    };
    let said = serve(&flags(&one.cert, &other.key));
    assert!(said.contains("does not go with"), "{said}");
    let said = serve(&flags(&one.cert, &dir.path().join("missing.key")));
    assert!(said.contains("missing.key"), "{said}");
    let said = serve(&flags(&one.key, &one.key));
    assert!(said.contains("holds no certificate"), "{said}");
    let said = serve(&[
        "--tls-cert".as_ref(),
        one.cert.as_os_str(),
        "--tls-key".as_ref(),
        one.key.as_os_str(),
    ]);
    assert!(said.contains("set --listen-tls too"), "{said}");
}
