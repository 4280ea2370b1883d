//! Password hashing on one thread of its own. Argon2id takes 19 MiB per hash: run on the
//! blocking pool, every pool thread keeps its own copy in its allocator arena (a burst of
//! logins grew the server by 160 MB and kept it), and hashes run without bound. One
//! long-lived thread reuses the same memory, and a bounded queue turns a flood into 429s.

use crate::error::{ApiError, ApiResult};
use std::sync::OnceLock;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// Password checks waiting at most (about 50 ms each).
const QUEUE: usize = 256;

fn queue() -> Option<&'static SyncSender<Job>> {
    static QUEUE_TX: OnceLock<Option<SyncSender<Job>>> = OnceLock::new();
    QUEUE_TX
        .get_or_init(|| {
            let (tx, rx) = sync_channel::<Job>(QUEUE);
            let started = std::thread::Builder::new()
                .name("password-hashing".into())
                .spawn(move || {
                    for job in rx {
                        job();
                    }
                });
            match started {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::error!(error = %e, "the password hashing thread could not start");
                    None
                }
            }
        })
        .as_ref()
}

/// Runs password work (tens of milliseconds) on the hashing thread.
pub async fn on_hashing_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    let queue = queue().ok_or_else(|| ApiError::internal(&"no password hashing thread"))?;
    let (done, wait) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(f());
    });
    match queue.try_send(job) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            return Err(ApiError::too_many_requests(
                "the server is busy checking passwords; try again in a second",
                1,
            ));
        }
        Err(TrySendError::Disconnected(_)) => return Err(ApiError::internal(&"the password hashing thread stopped")),
    }
    wait.await.map_err(|e| ApiError::internal(&e))
}
