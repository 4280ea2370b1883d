//! Following a deployment: read lines after the cursor from the store, send status changes,
//! wait for the notifier, repeat; end with `done` once the deployment is over and read out.

use super::logs::build_stream;
use crate::state::AppState;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::Utc;
use futures_util::Stream;
use serde_json::json;
use shipyard_core::{DeploymentId, DeploymentStatus};
use shipyard_store::{Backend, Deployments, TenantScope};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::watch;

/// Lines read per round trip to the store.
const CHUNK: i64 = 500;

struct Follower {
    state: AppState,
    scope: TenantScope,
    id: DeploymentId,
    stream: String,
    cursor: i64,
    status: Option<DeploymentStatus>,
    changes: watch::Receiver<u64>,
    pending: VecDeque<Event>,
    finished: bool,
}

fn frame(value: serde_json::Value) -> Event {
    Event::default().data(value.to_string())
}

impl Follower {
    /// Queues the next frames; false when there is nothing new yet.
    async fn fill(&mut self) -> bool {
        let lines = match self.state.logs.read(&self.stream, self.cursor, CHUNK).await {
            Ok(lines) => lines,
            Err(e) => {
                tracing::error!(error = %e, "log read failed; ending the stream");
                self.finished = true;
                return false;
            }
        };
        let more = lines.len() as i64 == CHUNK;
        for line in lines {
            self.cursor = line.seq;
            let data =
                json!({ "type": "log", "seq": line.seq, "at": line.at, "stream": line.stream, "line": line.line });
            self.pending.push_back(frame(data).id(line.seq.to_string()));
        }
        if more {
            return true;
        }
        let status = match self.state.store.read().await {
            Ok(mut tx) => tx
                .deployment(&self.scope, &self.id)
                .await
                .ok()
                .flatten()
                .map(|d| d.status),
            Err(_) => None,
        };
        let Some(status) = status else {
            self.finished = true;
            return !self.pending.is_empty();
        };
        if self.status != Some(status) {
            self.status = Some(status);
            self.pending
                .push_back(frame(json!({ "type": "status", "status": status, "at": Utc::now() })));
        }
        if status.is_terminal() {
            // The worker flushes every line before it records the end, so one more read
            // after seeing the end finds whatever arrived since the read above.
            match self.state.logs.read(&self.stream, self.cursor, CHUNK).await {
                Ok(rest) if rest.is_empty() => {
                    self.pending
                        .push_back(frame(json!({ "type": "done", "status": status })));
                    self.finished = true;
                }
                _ => return true,
            }
        }
        !self.pending.is_empty()
    }
}

/// The SSE response following a deployment from `after`.
pub fn follow(
    state: AppState,
    scope: TenantScope,
    id: DeploymentId,
    after: i64,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.logs.subscribe();
    let follower = Follower {
        stream: build_stream(&id),
        state,
        scope,
        id,
        cursor: after,
        status: None,
        changes,
        pending: VecDeque::new(),
        finished: false,
    };
    let events = futures_util::stream::unfold(follower, |mut f| async move {
        loop {
            if let Some(event) = f.pending.pop_front() {
                return Some((Ok(event), f));
            }
            if f.finished {
                return None;
            }
            f.changes.borrow_and_update();
            if !f.fill().await {
                // Woken by the notifier; the timeout bounds how stale a missed wake can leave us.
                let _ = tokio::time::timeout(Duration::from_secs(2), f.changes.changed()).await;
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("heartbeat"))
}
