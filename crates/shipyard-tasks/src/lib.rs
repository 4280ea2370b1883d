//! Who owns the server's background work. `serve` makes one `Tasks` and hands it to everything
//! that spawns control-plane work (bringing releases up, retiring them, the go-live watch, the
//! log and access-log writers, a rollback that must finish once asked for); shutdown cancels
//! them and waits for every one before the sandboxes' groups and disks go. Each task runs in a
//! span naming what it is, inside the span it was spawned from, so its lines carry the ids of
//! the work that started it.
#![forbid(unsafe_code)]

use std::future::Future;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

/// The server's background tasks and the signal that it is stopping; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    stopping: CancellationToken,
}

impl Tasks {
    /// No tasks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `work` to its end, even once the server is stopping (shutdown waits for it): for
    /// work that must not stop halfway, such as a rollback already asked for.
    pub fn spawn<F>(&self, what: &'static str, work: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let span = tracing::info_span!("task", task = what);
        self.tracker.spawn(work.instrument(span))
    }

    /// Runs `work` to its end like `spawn`, unless the server is stopping (None): for work a
    /// request asks for, which must not start once shutdown no longer waits for it.
    pub fn try_spawn<F>(&self, what: &'static str, work: F) -> Option<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        (!self.is_stopping()).then(|| self.spawn(what, work))
    }

    /// Runs `work` until it ends or the server starts stopping, whichever comes first: for
    /// work that may stop anywhere (waiting for an app to get healthy, watching, pruning).
    pub fn spawn_until_stopping<F>(&self, what: &'static str, work: F) -> JoinHandle<Option<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let stopping = self.stopping.clone();
        self.spawn(what, async move {
            tokio::select! {
                biased;
                () = stopping.cancelled() => None,
                done = work => Some(done),
            }
        })
    }

    /// Completes once the server starts stopping.
    pub fn stopping(&self) -> WaitForCancellationFuture<'_> {
        self.stopping.cancelled()
    }

    /// Whether the server has started stopping.
    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// How many tasks are running.
    pub fn running(&self) -> usize {
        self.tracker.len()
    }

    /// Starts stopping: tasks spawned until stopping end, and `try_spawn` refuses new work.
    pub fn stop(&self) {
        self.stopping.cancel();
        self.tracker.close();
    }

    /// Stops and waits for every task, at most `limit`; returns how many were still running
    /// when it gave up (0 when all ended).
    pub async fn stop_and_wait(&self, limit: Duration) -> usize {
        self.stop();
        match tokio::time::timeout(limit, self.tracker.wait()).await {
            Ok(()) => 0,
            Err(_) => {
                let left = self.tracker.len();
                tracing::warn!(tasks = left, "background tasks still running at shutdown");
                left
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[tokio::test]
    async fn stopping_ends_what_may_stop_and_waits_for_what_must_finish() {
        let tasks = Tasks::new();
        let finished = Arc::new(AtomicBool::new(false));
        let watcher = tasks.spawn_until_stopping("watch", std::future::pending::<()>());
        let must = {
            let finished = finished.clone();
            tasks.spawn("rollback", async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                finished.store(true, Ordering::SeqCst);
            })
        };
        assert_eq!(tasks.running(), 2);
        assert_eq!(tasks.stop_and_wait(Duration::from_secs(5)).await, 0);
        assert!(finished.load(Ordering::SeqCst), "the must-finish task ran to its end");
        assert_eq!(watcher.await.ok(), Some(None), "the watcher was stopped, not finished");
        assert!(must.await.is_ok());
        assert_eq!(tasks.running(), 0);
        assert!(tasks.is_stopping());
    }

    #[tokio::test]
    async fn a_task_that_will_not_end_is_reported_not_waited_for_forever() {
        let tasks = Tasks::new();
        let _stuck = tasks.spawn("stuck", std::future::pending::<()>());
        assert_eq!(tasks.stop_and_wait(Duration::from_millis(50)).await, 1);
    }
}
