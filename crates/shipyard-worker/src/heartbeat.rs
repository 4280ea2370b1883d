//! The lease heartbeat of one job: renews the lease and turns a cancel request (a flag on the
//! job row, so it works across processes) into a signal the build watches.

use crate::context::{HEARTBEAT, LEASE, Worker};
use chrono::Utc;
use shipyard_store::{Backend, Jobs, SqliteStore};
use tokio::sync::watch;

impl Worker {
    /// Renews the lease of `job` until dropped; `cancel` turns true when a user cancels or the
    /// lease is lost.
    pub(crate) fn heartbeat(
        &self,
        job: i64,
        lease: String,
        cancel: watch::Sender<bool>,
    ) -> tokio::task::JoinHandle<Option<()>> {
        let worker = self.clone();
        self.runtime
            .tasks()
            .spawn_until_stopping("lease heartbeat", async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    let renewed = async {
                        let mut tx = worker.store.write().await?;
                        let state = tx.renew_lease(job, &lease, Utc::now() + LEASE).await?;
                        SqliteStore::commit(tx).await?;
                        Ok::<_, shipyard_store::StoreError>(state)
                    };
                    match renewed.await {
                        Ok(Some(false)) => {}
                        Ok(Some(true)) | Ok(None) => {
                            let _ = cancel.send(true);
                            return;
                        }
                        Err(e) => tracing::warn!(job, error = %e, "lease renewal failed; retrying"),
                    }
                }
            })
    }
}
