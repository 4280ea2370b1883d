//! Fetching live URLs through the edge: requests go to the server's loopback listener with the
//! app's `Host` header (Debian's resolver does not resolve `*.localhost`).

use super::deploy::Deployable;
use super::{Tenant, TestServer};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::time::Duration;

/// An edge response: status, headers and the raw body (never decompressed).
#[derive(Debug)]
pub struct Fetched {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Fetched {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }
}

/// The host of a project view's first environment (`web-production.acme.localhost`).
pub fn live_host(project: &Value) -> String {
    let url = project["environments"][0]["url"].as_str().expect("url");
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .split(':')
        .next()
        .expect("host")
        .to_owned()
}

/// A client for the edge: no redirects followed, bounded in time.
pub fn edge_client() -> reqwest::Client {
    shipyard_client::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// `method path` at `host` with extra `headers`.
pub async fn fetch_with(
    client: &reqwest::Client,
    server: &TestServer,
    method: reqwest::Method,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Fetched {
    let mut request = client
        .request(method, format!("{}{path}", server.base))
        .header("host", host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("edge request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.expect("body").to_vec();
    Fetched { status, headers, body }
}

/// `GET path` at `host`.
pub async fn fetch(server: &TestServer, host: &str, path: &str, headers: &[(&str, &str)]) -> Fetched {
    fetch_with(&edge_client(), server, reqwest::Method::GET, host, path, headers).await
}

/// The status of `GET <raw_path>` at `host`, sent byte for byte over a plain socket (HTTP
/// clients normalise `..` and `%2e%2e` away before sending, which would hide the attack).
pub async fn raw_status(server: &TestServer, host: &str, raw_path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {raw_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut response))
        .await
        .expect("answered in time")
        .expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {text}"));
    (status, text)
}

impl Tenant {
    /// The project view of `app`.
    pub async fn project_view(&self, app: &Deployable) -> Value {
        self.token
            .get(&format!("/tenants/{}/projects/{}", self.tenant_id, app.project_id))
            .await
            .expect("project")
            .body
    }

    /// The live host of `app`'s production environment.
    pub async fn live_host_of(&self, app: &Deployable) -> String {
        live_host(&self.project_view(app).await)
    }

    /// `GET …/environments/<production>/runtime` of `app`.
    pub async fn runtime_view(&self, app: &Deployable) -> Value {
        self.token
            .get(&format!(
                "/tenants/{}/projects/{}/environments/{}/runtime",
                self.tenant_id, app.project_id, app.environment_id
            ))
            .await
            .expect("runtime")
            .body
    }

    /// Sets workspace secret `name` to `value`.
    pub async fn workspace_secret(&self, name: &str, value: &str) {
        let made = self
            .token
            .post(
                &format!("/tenants/{}/secrets", self.tenant_id),
                &json!({ "name": name, "value": value, "scope": "workspace" }),
            )
            .await
            .expect("secret");
        assert_eq!(made.status, 201, "{}", made.body);
    }

    /// A release's runtime-log lines, polled (at most 30 s) until `enough` holds of them.
    pub async fn runtime_log_text(&self, release: &str, enough: impl Fn(&str) -> bool) -> String {
        let path = format!("/tenants/{}/releases/{release}/runtime-logs", self.tenant_id);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let page = self.token.get(&path).await.expect("runtime logs").body;
            let text = page["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|l| l["line"].as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            if enough(&text) || std::time::Instant::now() > deadline {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
