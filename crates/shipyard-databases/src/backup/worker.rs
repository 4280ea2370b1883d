//! The backup worker: one task per server that runs the daily schedule and then the oldest
//! job (restores before backups: someone waits for a restore), one at a time.

use super::schedule::Schedule;
use crate::error::DatabaseError;
use crate::manager::Clusters;
use shipyard_core::JobStatus;
use shipyard_store::{Backend, Backup, Backups, Restore, SqliteStore};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// How often the worker looks at the schedule when nothing wakes it.
const TICK: Duration = Duration::from_secs(30);

/// The backup worker's state, shared by every clone of `Clusters`.
pub(crate) struct Worker {
    wake: Notify,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
    /// One proof at a time on this server: a proof holds a scratch copy of a database.
    pub(crate) proving: tokio::sync::Mutex<()>,
    /// The daily schedule.
    pub(crate) schedule: Schedule,
    /// The last day the schedule queued, so a tick after it does not run it again.
    pub(crate) scheduled: Mutex<Option<chrono::NaiveDate>>,
}

impl Worker {
    /// A worker with `schedule`, not yet started.
    pub(crate) fn new(schedule: Schedule) -> Self {
        Self {
            wake: Notify::new(),
            stop: watch::channel(false).0,
            task: Mutex::new(None),
            proving: tokio::sync::Mutex::new(()),
            schedule,
            scheduled: Mutex::new(None),
        }
    }
}

/// A claimed job.
enum Job {
    Backup(Backup),
    Restore(Restore),
}

impl Clusters {
    /// Starts the backup worker: backups a stop interrupted are taken again (once), restores it
    /// interrupted are failed (each ran as one transaction: none was half applied).
    pub(crate) async fn start_backups(&self) -> Result<(), DatabaseError> {
        let mut tx = self.config.store.write().await?;
        let (again, failed) = tx
            .interrupt_backups("interrupted twice by a stop of the server; take a new backup")
            .await?;
        let restores = tx
            .interrupt_restores(
                "interrupted by a stop of the server; nothing of it was applied (it ran as one transaction)",
            )
            .await?;
        SqliteStore::commit(tx).await?;
        if again + failed + restores > 0 {
            tracing::info!(
                again,
                failed,
                restores,
                "backups and restores interrupted by the last stop"
            );
        }
        let this = self.clone();
        let task = self
            .config
            .tasks
            .spawn("backup worker", async move { this.work().await });
        if let Ok(mut slot) = self.backups.task.lock() {
            *slot = Some(task);
        }
        Ok(())
    }

    /// Stops the backup worker; a job it was running stays `running` for the next start.
    pub(crate) async fn stop_backups(&self) {
        let _ = self.backups.stop.send(true);
        let task = self.backups.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }

    async fn work(self) {
        let mut stop = self.backups.stop.subscribe();
        loop {
            if *stop.borrow() {
                return;
            }
            let worked = tokio::select! {
                _ = stop.changed() => return,
                worked = self.work_once() => worked,
            };
            if worked {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = self.backups.wake.notified() => {}
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    /// Runs the schedule and then one job; whether there was one.
    async fn work_once(&self) -> bool {
        let now = chrono::Local::now().naive_local();
        let ran = self.backups.scheduled.lock().ok().and_then(|d| *d);
        // Before its time a day's run changes nothing; after it, once a day is enough.
        if now.time() >= self.backups.schedule.at && ran != Some(now.date()) {
            match self.run_schedule(now).await {
                Ok(_) => {
                    if let Ok(mut day) = self.backups.scheduled.lock() {
                        *day = Some(now.date());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the backup schedule could not run"),
            }
        }
        match self.next_job().await {
            Ok(Some(job)) => {
                self.run_job(job).await;
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "the backup worker could not read its jobs");
                false
            }
        }
    }

    /// Wakes the worker: a job is waiting.
    pub fn wake_backups(&self) {
        self.backups.wake.notify_one();
    }

    async fn next_job(&self) -> Result<Option<Job>, DatabaseError> {
        let mut tx = self.config.store.write().await?;
        let job = match tx.claim_restore().await? {
            Some(restore) => Some(Job::Restore(restore)),
            None => tx.claim_backup().await?.map(Job::Backup),
        };
        SqliteStore::commit(tx).await?;
        Ok(job)
    }

    async fn run_job(&self, job: Job) {
        match job {
            Job::Backup(backup) => {
                let span = tracing::info_span!("backup", backup = %backup.id, database = %backup.database_id);
                match self.take_backup(&backup).instrument(span).await {
                    Ok(done) if done.status == JobStatus::Failed => {
                        tracing::warn!(backup = %done.id, error = done.error.as_deref().unwrap_or(""), "backup failed");
                    }
                    Ok(done) => {
                        tracing::info!(backup = %done.id, size = done.size_bytes, "backup completed and proven");
                        if done.kind == shipyard_core::BackupKind::Daily
                            && let Err(e) = self.prune_dailies(&done.database_id).await
                        {
                            tracing::warn!(database = %done.database_id, error = %e, "old daily backups could not be removed");
                        }
                    }
                    Err(e) => tracing::warn!(backup = %backup.id, error = %e, "a backup could not be recorded"),
                }
            }
            Job::Restore(restore) => {
                let span = tracing::info_span!("restore", restore = %restore.id, database = %restore.database_id);
                self.run_restore(&restore).instrument(span).await;
            }
        }
    }
}
