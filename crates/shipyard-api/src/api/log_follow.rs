//! Following a log stream over Server-Sent Events: read lines after the cursor from the
//! store, send what its subject's status became, wait for the notifier, repeat; end with
//! `done` once the subject is over and its log read out. A deployment's build log, a
//! release's runtime log and an environment's access log are followed the same way.

use crate::state::AppState;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::Utc;
use futures_util::Stream;
use serde_json::json;
use shipyard_core::{DeploymentId, EnvironmentId, ReleaseId, RunId, RuntimeType};
use shipyard_store::logs::{LogLine, access_stream, build_stream, run_stream, runtime_stream};
use shipyard_store::{Backend, Deployments, Environments, Releases, TenantScope};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::watch;

/// Lines read per round trip to the store.
const CHUNK: i64 = 500;

/// Whose log is followed.
pub enum Subject {
    /// A deployment: `status` frames as it moves, `done` once it ended.
    Deployment(TenantScope, DeploymentId),
    /// A release's instances: `done` once it is inactive and they have stopped.
    Release(TenantScope, ReleaseId),
    /// An environment's access log: never done while the environment exists.
    Environment(TenantScope, EnvironmentId),
    /// A one-off command: `done` once it ended.
    Run(TenantScope, RunId),
}

/// Where a subject stands: its status, and whether nothing more will be logged.
struct Standing {
    status: String,
    over: bool,
}

impl Subject {
    /// The log stream's name.
    fn stream(&self) -> String {
        match self {
            Self::Deployment(_, id) => build_stream(id),
            Self::Release(_, id) => runtime_stream(id),
            Self::Environment(_, id) => access_stream(id.as_str()),
            Self::Run(_, id) => run_stream(id),
        }
    }

    /// The `log` frame of a stored line (None for one that is not this subject's kind).
    fn frame_of(&self, line: &LogLine) -> Option<serde_json::Value> {
        match self {
            Self::Environment(..) => {
                let mut data = serde_json::to_value(super::access_logs::access_item(line)?).ok()?;
                data["type"] = json!("log");
                Some(data)
            }
            _ => {
                Some(json!({ "type": "log", "seq": line.seq, "at": line.at, "stream": line.stream, "line": line.line }))
            }
        }
    }

    /// None once the subject is gone (deleted).
    async fn standing(&self, state: &AppState) -> Option<Standing> {
        let mut tx = state.store.read().await.ok()?;
        match self {
            Self::Deployment(scope, id) => {
                let dep = tx.deployment(scope, id).await.ok()??;
                Some(Standing {
                    status: dep.status.as_str().to_owned(),
                    over: dep.status.is_terminal(),
                })
            }
            Self::Release(scope, id) => {
                let release = tx.release(scope, id).await.ok()??;
                let running = state.runtime.runs(id.as_str());
                // A static site's files are served by the edge: it never logs a runtime line.
                let serves_files = release.config.runtime.runtime_type == RuntimeType::Static;
                let over = serves_files || (!release.active && !running);
                let status = if over {
                    "stopped"
                } else if running {
                    "running"
                } else {
                    "active"
                };
                Some(Standing {
                    status: status.to_owned(),
                    over,
                })
            }
            Self::Environment(scope, id) => {
                tx.environment(scope, id).await.ok()??;
                Some(Standing {
                    status: "serving".to_owned(),
                    over: false,
                })
            }
            Self::Run(scope, id) => {
                let run = state.runtime.run_of(scope.tenant_id(), id)?;
                Some(Standing {
                    status: if run.running() { "running" } else { "ended" }.to_owned(),
                    over: !run.running(),
                })
            }
        }
    }

    /// Whether its status changes are sent as `status` frames (a release has only its end).
    fn sends_status(&self) -> bool {
        matches!(self, Self::Deployment(..))
    }
}

struct Follower {
    state: AppState,
    subject: Subject,
    stream: String,
    cursor: i64,
    status: Option<String>,
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
        // A full read may have more behind it: by count, or cut short by its byte bound.
        let more = lines.len() as i64 == CHUNK
            || lines.iter().map(|l| l.line.len()).sum::<usize>() >= shipyard_store::logs::PAGE_BYTES;
        for line in lines {
            self.cursor = line.seq;
            if let Some(data) = self.subject.frame_of(&line) {
                self.pending.push_back(frame(data).id(line.seq.to_string()));
            }
        }
        if more {
            return true;
        }
        let Some(standing) = self.subject.standing(&self.state).await else {
            self.finished = true;
            return !self.pending.is_empty();
        };
        if self.subject.sends_status() && self.status.as_deref() != Some(standing.status.as_str()) {
            self.pending.push_back(frame(
                json!({ "type": "status", "status": standing.status, "at": Utc::now() }),
            ));
        }
        self.status = Some(standing.status.clone());
        if standing.over {
            // Every line is flushed before the end is recorded (the worker's last step, the
            // supervisor's exit), so one more read after seeing the end finds the rest.
            match self.state.logs.read(&self.stream, self.cursor, CHUNK).await {
                Ok(rest) if rest.is_empty() => {
                    self.pending
                        .push_back(frame(json!({ "type": "done", "status": standing.status })));
                    self.finished = true;
                }
                _ => return true,
            }
        }
        !self.pending.is_empty()
    }
}

/// The SSE response following `subject`'s log from `after`.
pub fn follow(state: AppState, subject: Subject, after: i64) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let changes = state.logs.subscribe();
    let follower = Follower {
        stream: subject.stream(),
        state,
        subject,
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
            if f.finished || f.state.logs.ending() {
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
