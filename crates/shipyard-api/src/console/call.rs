//! The console's one way to change or read a workspace: the API itself, called in-process with
//! the visitor's own session, Host, Origin and connection. Every rule, check and limit of the
//! API applies to the console unchanged, because it is the same request.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use tower::ServiceExt;

/// Largest API answer the console reads: a page of log lines ends once it holds 1 MiB of text,
/// which JSON's escapes can grow to at most 6 MiB.
const ANSWER_LIMIT: usize = 8 * 1024 * 1024;

/// What the API refused, in its own words.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Its status.
    pub status: StatusCode,
    /// Its message.
    pub message: String,
}

impl Refusal {
    fn broken(what: impl std::fmt::Display) -> Self {
        tracing::error!(%what, "the console could not read an API answer");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error; the server log has the details".to_owned(),
        }
    }
}

/// An API answer the console passes on: its body and the cookies it sets.
#[derive(Debug)]
pub struct Answer<T> {
    /// The parsed body.
    pub body: T,
    /// `Set-Cookie` headers, for the browser.
    pub cookies: Vec<HeaderValue>,
}

/// Calls the API as the visitor whose request this is.
#[derive(Clone)]
pub struct Caller {
    api: Router,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
}

impl Caller {
    /// A caller that carries `parts`' cookies, Host, Origin, forwarded-for and connection.
    pub fn new(api: Router, parts: &Parts) -> Self {
        let mut headers = HeaderMap::new();
        for name in [header::COOKIE, header::HOST, header::ORIGIN, header::USER_AGENT] {
            for value in parts.headers.get_all(&name) {
                headers.append(name.clone(), value.clone());
            }
        }
        // Every line of it: the client address is read from the last one a trusted proxy wrote.
        for value in parts.headers.get_all("x-forwarded-for") {
            headers.append("x-forwarded-for", value.clone());
        }
        // Only what says how the request came (its peer, TLS): the router's own extensions
        // (path parameters, the matched route) belong to the console's route, not the API's.
        let mut extensions = axum::http::Extensions::new();
        if let Some(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            extensions.insert(*peer);
        }
        if parts.extensions.get::<shipyard_edge::tls::OverTls>().is_some() {
            extensions.insert(shipyard_edge::tls::OverTls);
        }
        Self {
            api,
            headers,
            extensions,
        }
    }

    /// `GET path` and its JSON.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Refusal> {
        Ok(self.send(Method::GET, path, None).await?.body)
    }

    /// `POST path` with a JSON body, and the answer's JSON (`()` for none).
    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<Answer<T>, Refusal> {
        let bytes = serde_json::to_vec(body).map_err(Refusal::broken)?;
        self.send(Method::POST, path, Some(bytes)).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer<T>, Refusal> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(headers) = request.headers_mut() {
            headers.extend(self.headers.clone());
            if body.is_some() {
                headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
        }
        let mut request = request
            .body(body.map_or_else(Body::empty, Body::from))
            .map_err(Refusal::broken)?;
        *request.extensions_mut() = self.extensions.clone();
        let response = self.api.clone().oneshot(request).await.map_err(Refusal::broken)?;
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, ANSWER_LIMIT)
            .await
            .map_err(Refusal::broken)?;
        if !parts.status.is_success() {
            let message = serde_json::from_slice::<crate::ErrorBody>(&bytes)
                .map(|e| e.message)
                .unwrap_or_else(|_| parts.status.to_string());
            return Err(Refusal {
                status: parts.status,
                message,
            });
        }
        let cookies = parts.headers.get_all(header::SET_COOKIE).iter().cloned().collect();
        // An empty answer (204) reads as JSON `null`, which `()` accepts.
        let json = if bytes.is_empty() { &b"null"[..] } else { &bytes[..] };
        let body = serde_json::from_slice(json).map_err(Refusal::broken)?;
        Ok(Answer { body, cookies })
    }
}
