//! ACME's HTTP-01 challenges: the answer the CA expects at
//! `/.well-known/acme-challenge/<token>`, given by the edge itself before any routing, so an
//! app's catch-all route can never answer in its place (coolify#6271).

use super::CHALLENGE_PREFIX;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Tokens of orders in flight and their key authorizations.
#[derive(Debug, Clone, Default)]
pub struct Challenges {
    pending: Arc<RwLock<HashMap<String, String>>>,
}

impl Challenges {
    /// No challenge yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers `token` with `key_authorization` until [`Challenges::remove`].
    pub fn insert(&self, token: &str, key_authorization: &str) {
        if let Ok(mut pending) = self.pending.write() {
            pending.insert(token.to_owned(), key_authorization.to_owned());
        }
    }

    /// Stops answering `token`.
    pub fn remove(&self, token: &str) {
        if let Ok(mut pending) = self.pending.write() {
            pending.remove(token);
        }
    }

    /// The answer to a request for `path`, when it is a challenge's: its key authorization, or
    /// 404 for a token nobody waits on. None for any other path.
    pub(crate) fn answer(&self, path: &str) -> Option<Response<Body>> {
        let token = path.strip_prefix(CHALLENGE_PREFIX)?;
        let found = self.pending.read().ok().and_then(|pending| pending.get(token).cloned());
        let (status, body) = match found {
            Some(key_authorization) => (StatusCode::OK, key_authorization),
            None => (StatusCode::NOT_FOUND, "no such ACME challenge\n".to_owned()),
        };
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))
            .body(Body::from(body))
            .ok()
    }
}
