//! The worker's loop: how many builds run at once, how jobs are claimed, and what a restart
//! does to builds that were running.

use chrono::{Duration as ChronoDuration, Utc};
use shipyard_build::Repositories;
use shipyard_build::build::Sandbox;
use shipyard_core::SecretBox;
use shipyard_runtime::Runtime;
use shipyard_store::logs::LogStore;
use shipyard_store::{Backend, ClaimedJob, InterruptedJob, Jobs, SqliteStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

/// How long a claimed job stays ours without a heartbeat.
pub(crate) const LEASE: ChronoDuration = ChronoDuration::seconds(30);
/// How often the holder renews its lease (and sees cancel requests).
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often expired leases are looked for.
const SWEEP: Duration = Duration::from_secs(10);

/// Settings of the build worker.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Where everything lives: the data directory (workspaces' disks) and the work root (where
    /// build disks are mounted).
    pub layout: shipyard_store::Layout,
    /// Builds at once.
    pub concurrency: usize,
    /// Wall clock per build.
    pub timeout: Duration,
    /// Releases kept per environment; older ones lose their artifact.
    pub release_retention: i64,
    /// The uids projects' sandboxes are given, one per project (`--sandbox-uids`).
    pub sandbox_uids: std::ops::RangeInclusive<u32>,
    /// How long after go-live a crash loop rolls a release back (`--go-live-watch`; zero: never).
    pub go_live_watch: Duration,
    /// Bytes of a project's build disk: its builds' workspaces and its cache (`--build-disk`).
    pub build_disk: u64,
    /// Bytes of the largest release a build may store (`--artifact-max`).
    pub artifact_max: u64,
}

/// Everything a build needs.
#[derive(Clone)]
pub struct Worker {
    pub(crate) store: SqliteStore,
    pub(crate) logs: LogStore,
    pub(crate) repos: Arc<Repositories>,
    pub(crate) secret_box: SecretBox,
    pub(crate) sandbox: Arc<Sandbox>,
    pub(crate) runtime: Runtime,
    pub(crate) settings: Arc<WorkerSettings>,
    pub(crate) owner: String,
    /// The build disks this worker has mounted.
    pub(crate) disks: shipyard_sandbox::Disks,
    wake: Arc<Notify>,
}

/// What a worker works with, made by the server that runs it.
pub struct WorkerParts {
    /// The database.
    pub store: SqliteStore,
    /// Build logs.
    pub logs: LogStore,
    /// Repository mirrors.
    pub repos: Arc<Repositories>,
    /// Opens secrets and credentials.
    pub secret_box: SecretBox,
    /// How builds are confined.
    pub sandbox: Sandbox,
    /// Where releases go live.
    pub runtime: Runtime,
    /// Projects' build disks (closed by the server as it stops).
    pub build_disks: shipyard_sandbox::Disks,
}

impl Worker {
    /// A worker over these parts; `wake` is notified when a job is queued.
    pub fn new(parts: WorkerParts, settings: WorkerSettings, wake: Arc<Notify>) -> Self {
        Self {
            store: parts.store,
            logs: parts.logs,
            repos: parts.repos,
            secret_box: parts.secret_box,
            disks: parts.build_disks,
            sandbox: Arc::new(parts.sandbox),
            runtime: parts.runtime,
            settings: Arc::new(settings),
            owner: format!("worker-{}", uuid::Uuid::now_v7().simple()),
            wake,
        }
    }

    /// Takes back the builds a previous run of the server left running: each is queued again
    /// once, then fails. The data directory is locked to one server, so no other worker can
    /// hold them.
    pub async fn recover(&self) -> shipyard_store::Result<usize> {
        let mut tx = self.store.write().await?;
        let taken = tx.interrupt_jobs(None, "interrupted by a platform restart").await?;
        SqliteStore::commit(tx).await?;
        self.announce(&taken, "restarted after a platform restart").await;
        if !taken.is_empty() {
            tracing::warn!(
                builds = taken.len(),
                "builds interrupted by the restart were queued again or failed"
            );
        }
        // Their workspaces are leftovers now (their limit groups and network namespaces went
        // when the server started: `Sandbox::remove_stale`); each project's are removed when
        // its build disk is next mounted. Versions before build disks kept workspaces and
        // caches in the work root itself: those go (a cache is only ever a speed-up).
        let legacy = self.settings.layout.legacy();
        for old in [legacy.builds, legacy.cache] {
            if let Err(e) = std::fs::remove_dir_all(&old)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %old.display(), error = %e, "workspaces of an older version not removed");
            }
        }
        // Build disks of deleted projects and artifacts nobody owns went when the workspaces'
        // disks were opened (`storage::open`).
        Ok(taken.len())
    }

    /// Says in each taken build's log what happened to it.
    async fn announce(&self, taken: &[InterruptedJob], requeued_because: &str) {
        for job in taken {
            let stream = shipyard_store::logs::build_stream(&job.deployment_id);
            let line = if job.requeued {
                format!("{requeued_because}; queued again as attempt 2")
            } else {
                "interrupted a second time; the deployment failed".to_owned()
            };
            self.log(&stream, line).await;
        }
        if !taken.is_empty() {
            self.logs.writer().flush().await;
            self.logs.notify();
            self.wake.notify_one();
        }
    }

    /// Takes back jobs whose holder stopped renewing its lease (a hung or vanished worker).
    async fn sweep_expired(&self) {
        let swept = async {
            let mut tx = self.store.write().await?;
            let taken = tx
                .interrupt_jobs(
                    Some(Utc::now()),
                    "the build stopped responding (its worker's lease expired)",
                )
                .await?;
            SqliteStore::commit(tx).await?;
            Ok::<_, shipyard_store::StoreError>(taken)
        };
        match swept.await {
            Ok(taken) if taken.is_empty() => {}
            Ok(taken) => {
                tracing::warn!(builds = taken.len(), "builds with expired leases were taken back");
                self.announce(&taken, "restarted after its worker stopped responding")
                    .await;
            }
            Err(e) => tracing::error!(error = %e, "sweeping expired leases failed"),
        }
    }

    async fn claim(&self) -> Option<ClaimedJob> {
        // A token per claim, so a worker that lost a job can never renew or finish the next
        // claim of it, even its own.
        let lease = format!("{}:{}", self.owner, uuid::Uuid::now_v7().simple());
        let attempt = async {
            let mut tx = self.store.write().await?;
            let job = tx.claim_job(&lease, Utc::now() + LEASE).await?;
            SqliteStore::commit(tx).await?;
            Ok::<_, shipyard_store::StoreError>(job)
        };
        match attempt.await {
            Ok(job) => job,
            Err(e) => {
                tracing::error!(error = %e, "claiming a job failed");
                None
            }
        }
    }

    /// Claims the oldest queued job and builds it to its end; false when none was queued. Tests
    /// step the queue with it (one job, then look) where `run` would race them.
    pub async fn run_one(&self) -> bool {
        match self.claim().await {
            Some(job) => {
                self.process(job).await;
                true
            }
            None => false,
        }
    }

    /// Runs until `shutdown` turns true; builds in flight are then ended (their deployments
    /// fail as interrupted at the next start).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut running = JoinSet::new();
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            if last_sweep.elapsed() >= SWEEP {
                last_sweep = tokio::time::Instant::now();
                self.sweep_expired().await;
            }
            if let Ok(permit) = slots.clone().try_acquire_owned()
                && let Some(job) = self.claim().await
            {
                let worker = self.clone();
                running.spawn(async move {
                    worker.process(job).await;
                    drop(permit);
                });
                continue;
            }
            while running.try_join_next().is_some() {}
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
        }
        running.shutdown().await;
        // Lines the ended builds printed are still queued; keep them for their logs.
        self.logs.writer().flush().await;
    }
}
