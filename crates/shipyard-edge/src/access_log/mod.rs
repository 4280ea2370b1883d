//! The edge's access log (CONTRACT.md, "Runtime details"): every environment's requests with
//! a status ≥ 400 or a method other than GET, each recorded once its response body has ended
//! (so `bytes` and `durationMs` are what the client got). Recording never waits: entries go
//! into a queue bounded in bytes and fair between environments (`queue`), and an entry dropped
//! for room is counted for its environment. Every field a client writes is cut to a bound first.

mod queue;

pub use shipyard_core::log_line::AccessEntry;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, Response, Uri};
use chrono::Utc;
use http_body::{Frame, SizeHint};
use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

/// The longest method kept (HTTP allows made-up ones).
pub const MAX_METHOD_BYTES: usize = 32;
/// The longest path kept.
pub const MAX_PATH_BYTES: usize = 2048;
/// The longest `User-Agent` kept.
pub const MAX_USER_AGENT_BYTES: usize = 512;
/// What ends a field that was cut to its bound.
pub const CUT_MARK: &str = "…";

/// `text`, or when longer than `max` bytes its longest prefix that fits with `CUT_MARK` after it.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(CUT_MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_MARK}", &text[..end])
}

/// Where the edge records entries; cheap to clone.
#[derive(Clone)]
pub struct AccessLog {
    queue: Arc<queue::FairQueue>,
    dropped: Arc<Mutex<HashMap<String, u64>>>,
    _open: Arc<Open>,
}

/// Closes the queue when the last `AccessLog` goes, so its reader ends.
struct Open(Arc<queue::FairQueue>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The reading end: whoever stores entries takes them from here.
pub struct AccessEntries(Arc<queue::FairQueue>);

impl AccessEntries {
    /// The next entry (environments in turn); None once every `AccessLog` is gone and the
    /// queue is empty.
    pub async fn next(&mut self) -> Option<AccessEntry> {
        self.0.pop().await
    }

    /// The next entry if one waits now.
    pub fn try_next(&mut self) -> Option<AccessEntry> {
        self.0.try_pop().flatten()
    }
}

/// What the edge knows of a request before it is answered: cheap copies (shared buffers), as
/// every request takes them and most are never logged.
pub(crate) struct Asked {
    pub method: Method,
    pub uri: Uri,
    pub user_agent: Option<HeaderValue>,
    pub client: Option<IpAddr>,
    /// When it came; the wall-clock time is read only for a request that is logged.
    pub started: Instant,
}

impl AccessLog {
    /// A log whose queue holds at most `capacity_bytes` of entries; the reading end goes to
    /// whoever stores them.
    pub fn new(capacity_bytes: usize) -> (Self, AccessEntries) {
        let queue = Arc::new(queue::FairQueue::new(capacity_bytes));
        let log = Self {
            queue: queue.clone(),
            dropped: Arc::new(Mutex::new(HashMap::new())),
            _open: Arc::new(Open(queue.clone())),
        };
        (log, AccessEntries(queue))
    }

    /// Entries of `environment` dropped because the queue was full (since the server started).
    pub fn dropped(&self, environment: &str) -> u64 {
        self.dropped
            .lock()
            .map_or(0, |d| d.get(environment).copied().unwrap_or(0))
    }

    /// Forgets the count of `environment` (it is deleted).
    pub fn forget(&self, environment: &str) {
        if let Ok(mut dropped) = self.dropped.lock() {
            dropped.remove(environment);
        }
    }

    /// Queues `entry`, counting what was dropped to make room (or `entry` itself): never waits.
    fn record(&self, entry: AccessEntry) {
        let lost = self.queue.push(entry);
        if !lost.is_empty()
            && let Ok(mut dropped) = self.dropped.lock()
        {
            for environment in lost {
                *dropped.entry(environment).or_default() += 1;
            }
        }
    }

    /// `response` to `asked` of `host` in `environment`, logged once its body ends when the
    /// log keeps such requests; otherwise untouched.
    pub(crate) fn wrap(&self, environment: &str, host: &str, asked: Asked, response: Response<Body>) -> Response<Body> {
        let status = response.status().as_u16();
        if status < 400 && asked.method == Method::GET {
            return response;
        }
        let entry = AccessEntry {
            environment: environment.to_owned(),
            at: Utc::now() - chrono::TimeDelta::from_std(asked.started.elapsed()).unwrap_or_default(),
            method: cut(asked.method.as_str(), MAX_METHOD_BYTES),
            path: cut(asked.uri.path(), MAX_PATH_BYTES),
            status,
            duration_ms: 0,
            bytes: 0,
            client_ip: asked.client.map(|ip| ip.to_string()),
            user_agent: asked
                .user_agent
                .and_then(|v| v.to_str().ok().map(|ua| cut(ua, MAX_USER_AGENT_BYTES))),
            host: host.to_owned(),
        };
        let (head, body) = response.into_parts();
        let counted = Counted {
            inner: body,
            pending: Some((self.clone(), entry, asked.started)),
        };
        Response::from_parts(head, Body::new(counted))
    }
}

/// A response body that counts what it sends and records its entry when it ends or is
/// dropped (the client went away).
struct Counted {
    inner: Body,
    pending: Option<(AccessLog, AccessEntry, Instant)>,
}

impl Counted {
    fn finish(&mut self) {
        if let Some((log, mut entry, started)) = self.pending.take() {
            entry.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            log.record(entry);
        }
    }
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let sent = frame.data_ref().map_or(0, |d| d.len() as u64);
                if let Some((_, entry, _)) = self.pending.as_mut() {
                    entry.bytes += sent;
                }
            }
            Poll::Ready(None | Some(Err(_))) => self.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::{CUT_MARK, cut};

    #[test]
    fn a_long_field_is_cut_at_a_character_to_its_bound_and_marked() {
        assert_eq!(cut("short", 8), "short");
        let long = "é".repeat(600);
        let kept = cut(&long, 512);
        assert!(kept.len() <= 512 && kept.ends_with(CUT_MARK), "{}", kept.len());
        assert_eq!(kept.trim_end_matches(CUT_MARK), "é".repeat(254));
    }
}
