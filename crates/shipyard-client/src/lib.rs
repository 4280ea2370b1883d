//! A typed client of Shipyard's HTTP API, used by the CLI and the tests. Raw calls return
//! every answer (status, headers, JSON body); typed helpers turn non-2xx into `ClientError::Api`.
#![forbid(unsafe_code)]

mod backups;
mod databases;
mod domains;
mod follow;
pub mod paths;
mod workspace;
pub use backups::TUNNEL_PROTOCOL;
pub use follow::Follow;
pub use shipyard_api_types as types;
pub use workspace::{Paging, Workspace};

use reqwest::header::{AUTHORIZATION, COOKIE, HeaderMap, SET_COOKIE};
use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use shipyard_api_types::Secret;
use shipyard_api_types::account::{CreateTokenRequest, CreatedToken, LoginRequest, MeResponse, SignupRequest};
use thiserror::Error;

/// Why a call failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The server could not be reached or the answer could not be read.
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with an error.
    #[error("{status}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error's `message`.
        message: String,
    },
    /// A successful answer lacked something it should carry.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// An answer from the server.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when empty, a string when not JSON).
    pub body: Value,
}

impl ApiResponse {
    /// The body if the status is 2xx, else `ClientError::Api` with the error's message.
    pub fn ok(self) -> Result<Value, ClientError> {
        let moved = self
            .headers
            .get(reqwest::header::LOCATION)
            .and_then(|to| to.to_str().ok());
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else if let (300..=399, Some(to)) = (self.status, moved) {
            let server = to.split('/').take(3).collect::<Vec<_>>().join("/");
            Err(ClientError::Api {
                status: self.status,
                message: format!(
                    "the server answers at {server} instead (it redirects to {to}); use that address, e.g. `shipyard login --server {server}`"
                ),
            })
        } else {
            Err(api_error(self.status, &self.body))
        }
    }

    /// The body of a 2xx as the type the API documents for it.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        serde_json::from_value(self.ok()?)
            .map_err(|e| ClientError::Unexpected(format!("the answer did not parse: {e}")))
    }
}

/// The error an answer of `status` with `body` (the contract's error shape) stands for.
fn api_error(status: u16, body: &Value) -> ClientError {
    let message = body["message"].as_str().map_or_else(|| body.to_string(), str::to_owned);
    ClientError::Api { status, message }
}

#[derive(Debug, Clone)]
enum Credential {
    Token(String),
    /// A session cookie: its name (`shipyard_session`, or `__Host-shipyard_session` over TLS)
    /// and value.
    Session {
        name: String,
        value: String,
    },
}

/// The names the session cookie goes by (CONTRACT.md: the `__Host-` one over TLS).
const SESSION_COOKIES: [&str; 2] = ["__Host-shipyard_session", "shipyard_session"];

/// Makes ring the TLS library's provider of this process (as the server's, `shipyard_edge::tls::provider`:
/// rustls 0.23.48 deprecates it for lacking post-quantum key exchange). HTTPS servers are checked
/// against the system's roots (`SSL_CERT_FILE` names a private CA's). A second call changes nothing.
#[allow(deprecated)]
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client bound to one server and, optionally, one credential.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    credential: Option<Credential>,
}

impl Client {
    /// An anonymous client of the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: impl Into<String>) -> Self {
        install_tls_provider();
        // The API never redirects but to HTTPS; following a redirect would resend a password or
        // a body elsewhere, so the error names the address to use instead.
        // HTTP/1.1 only: the database tunnel is an HTTP/1.1 upgrade, which HTTP/2 (chosen by
        // ALPN over TLS) does not have.
        let builder = || {
            reqwest::Client::builder()
                .http1_only()
                .redirect(reqwest::redirect::Policy::none())
        };
        // A host without CA certificates cannot load the system's roots: plain HTTP still works
        // (and HTTPS says the server's certificate is not trusted) rather than a panic.
        let http = builder()
            .build()
            .or_else(|_| builder().tls_certs_only([]).build())
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            http,
            base: base.into().trim_end_matches('/').to_owned(),
            credential: None,
        }
    }

    /// The same server, authenticated by an API token.
    pub fn with_token(&self, token: impl Into<String>) -> Self {
        Self {
            credential: Some(Credential::Token(token.into())),
            ..self.clone()
        }
    }

    /// The same server, authenticated by a `shipyard_session` cookie value.
    pub fn with_session(&self, session: impl Into<String>) -> Self {
        self.with_cookie(SESSION_COOKIES[1], session.into())
    }

    fn with_cookie(&self, name: &str, value: String) -> Self {
        Self {
            credential: Some(Credential::Session {
                name: name.to_owned(),
                value,
            }),
            ..self.clone()
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `path` carrying this client's credential, for callers that need to set
    /// headers or a raw body themselves.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let builder = self.http.request(method, format!("{}{}", self.base, path));
        match &self.credential {
            Some(Credential::Token(t)) => builder.header(AUTHORIZATION, format!("Bearer {t}")),
            Some(Credential::Session { name, value }) => builder.header(COOKIE, format!("{name}={value}")),
            None => builder,
        }
    }

    /// Sends a prepared request and reads the answer. An event stream's body is not read (it
    /// may never end): its status and headers come back with a `Null` body.
    pub async fn send(&self, builder: RequestBuilder) -> Result<ApiResponse, ClientError> {
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let streams = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|t| t.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        if streams {
            return Ok(ApiResponse {
                status,
                headers,
                body: Value::Null,
            });
        }
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(ApiResponse { status, headers, body })
    }

    /// A call with an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<ApiResponse, ClientError> {
        let builder = self.request(method, path);
        self.send(match body {
            Some(body) => builder.json(body),
            None => builder,
        })
        .await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Result<ApiResponse, ClientError> {
        self.call(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<ApiResponse, ClientError> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<ApiResponse, ClientError> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<ApiResponse, ClientError> {
        self.call(Method::DELETE, path, None).await
    }

    /// `POST path` with a typed body, parsing the answer's.
    pub async fn post_typed<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, ClientError> {
        self.send(self.request(Method::POST, path).json(body)).await?.parse()
    }

    /// `PATCH path` with a typed body, parsing the answer's.
    pub async fn patch_typed<T: DeserializeOwned>(&self, path: &str, body: &impl Serialize) -> Result<T, ClientError> {
        self.send(self.request(Method::PATCH, path).json(body)).await?.parse()
    }

    /// Signs up and returns a client holding the new session, with the `/auth/me` answer.
    pub async fn signup(&self, req: &SignupRequest) -> Result<(Client, MeResponse), ClientError> {
        let response = self.send(self.request(Method::POST, "/auth/signup").json(req)).await?;
        let cookie = session_cookie(&response.headers);
        let me = response.parse()?;
        let (name, value) = cookie.ok_or_else(|| missing("session cookie"))?;
        Ok((self.with_cookie(name, value), me))
    }

    /// Logs in and returns a client holding the session.
    pub async fn login(&self, email: &str, password: &str) -> Result<Client, ClientError> {
        let req = LoginRequest {
            email: email.to_owned(),
            password: Secret::new(password),
        };
        let response = self.send(self.request(Method::POST, "/auth/login").json(&req)).await?;
        let cookie = session_cookie(&response.headers);
        response.ok()?;
        let (name, value) = cookie.ok_or_else(|| missing("session cookie"))?;
        Ok(self.with_cookie(name, value))
    }

    /// `GET /auth/me`.
    pub async fn me(&self) -> Result<MeResponse, ClientError> {
        self.get("/auth/me").await?.parse()
    }

    /// Makes an API token (needs a session) and returns the token's value.
    pub async fn create_token(&self, name: &str) -> Result<String, ClientError> {
        Ok(self.make_token(name, None).await?.token)
    }

    /// Makes an API token (needs a session), expiring after `days` if given: the only answer
    /// that shows the token.
    pub async fn make_token(&self, name: &str, days: Option<u32>) -> Result<CreatedToken, ClientError> {
        self.make_scoped_token(name, days, None).await
    }

    /// Makes an API token limited to `scopes` (None: `write`, everything the role allows).
    pub async fn make_scoped_token(
        &self,
        name: &str,
        days: Option<u32>,
        scopes: Option<Vec<shipyard_api_types::account::TokenScope>>,
    ) -> Result<CreatedToken, ClientError> {
        let req = CreateTokenRequest {
            name: name.to_owned(),
            expires_in_days: days,
            scopes,
            project_ids: None,
        };
        self.post_typed("/account/api-tokens", &req).await
    }

    /// Ends this client's session (`POST /auth/logout`).
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.post("/auth/logout", &json!({})).await?.ok().map(drop)
    }
}

fn missing(what: &str) -> ClientError {
    ClientError::Unexpected(format!("the answer carried no {what}"))
}

/// The session cookie's name and value from the `Set-Cookie` headers.
fn session_cookie(headers: &HeaderMap) -> Option<(&'static str, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            SESSION_COOKIES.iter().find_map(|name| {
                let rest = v.strip_prefix(name)?.strip_prefix('=')?;
                let value = rest.split(';').next().filter(|v| !v.is_empty())?;
                Some((*name, value.to_owned()))
            })
        })
}
