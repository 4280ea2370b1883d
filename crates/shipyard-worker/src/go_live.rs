//! The go-live watch (CONTRACT.md, "Runtime details"): for `--go-live-watch` after a deploy's
//! release goes live, a crash loop of its instances returns the environment to the release
//! that was live before, without a rebuild, and the deployment goes `ready → failed` saying
//! so. Rollbacks' releases are never watched, so an automatic rollback never repeats.

use crate::build::BuildLog;
use crate::context::Worker;
use shipyard_core::{DeploymentId, ReleaseId};
use shipyard_runtime::CRASH_LIMIT;
use shipyard_runtime::rollback::Rollback;
use shipyard_store::{Backend, Deployments, Release, Releases, SqliteStore, TenantScope};
use std::time::{Duration, Instant};

/// How often the watched release's instances are looked at.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// What the watch guards: one deployment's release, and the release live before it.
pub(crate) struct Watched {
    /// The workspace.
    pub scope: TenantScope,
    /// The deployment that made the release.
    pub deployment: DeploymentId,
    /// Its build log, where the outcome is said too.
    pub log: BuildLog,
    /// The release that went live.
    pub release: Release,
    /// The release its environment ran before (None for a first release).
    pub previous: Option<ReleaseId>,
}

impl Worker {
    /// Watches a server release that just went live, in the background.
    pub(crate) fn watch_go_live(&self, watched: Watched) {
        let window = self.settings.go_live_watch;
        if window.is_zero() {
            return;
        }
        let worker = self.clone();
        self.runtime.tasks().spawn_until_stopping("go-live watch", async move {
            let went_live = Instant::now();
            if worker.crash_loops(&watched.release.id, went_live + window).await {
                let secs = went_live.elapsed().as_secs_f64().ceil() as u64;
                // The watch may stop anywhere; the rollback it decided on runs to its end
                // (or does not start once the server is stopping).
                let tasks = worker.runtime.tasks().clone();
                let _ = tasks.try_spawn("go-live rollback", async move {
                    worker.after_crash_loop(watched, secs).await
                });
            }
        });
    }

    /// Whether an instance of `release` crash-loops before `until`; false as soon as the
    /// release is no longer routed (replaced, paused, deleted, the server stopping).
    async fn crash_loops(&self, release: &ReleaseId, until: Instant) -> bool {
        while Instant::now() < until {
            tokio::time::sleep(LOOK_EVERY.min(until.saturating_duration_since(Instant::now()))).await;
            let Some(instances) = self.runtime.instances(release.as_str()) else {
                return false;
            };
            if instances
                .states()
                .iter()
                .any(|s| s.status == shipyard_runtime::InstanceStatus::Crashed)
            {
                return true;
            }
        }
        false
    }

    /// Returns the environment to the previous release (when there is one) and fails the
    /// deployment with what happened.
    async fn after_crash_loop(&self, watched: Watched, secs: u64) {
        let Watched {
            scope,
            deployment,
            log,
            release,
            previous,
        } = watched;
        let looped = format!("instances crash-looped {CRASH_LIMIT} times within {secs} s of going live");
        let (error, event) = match self.return_to(&scope, &release, previous.as_ref()).await {
            Ok(Some(to)) => (format!("{looped}; rolled back to v{to}"), "auto_rollback"),
            Ok(None) => (
                format!(
                    "release v{} crash-looped after going live; no earlier release to return to ({looped})",
                    release.version
                ),
                "failed",
            ),
            Err(why) => (format!("{looped}; the automatic rollback failed: {why}"), "failed"),
        };
        log.say(&error).await;
        log.flush().await;
        let failed = async {
            let mut tx = self.store.write().await?;
            let applied = tx.fail_after_go_live(&scope, &deployment, &error, event).await?;
            SqliteStore::commit(tx).await?;
            Ok::<_, shipyard_store::StoreError>(applied)
        };
        match failed.await {
            Ok(true) => self.logs.notify(),
            Ok(false) => {
                tracing::info!(%deployment, "the deployment was no longer ready; the go-live watch changed nothing")
            }
            Err(e) => tracing::error!(%deployment, error = %e, "the go-live watch could not record its outcome"),
        }
    }

    /// Rolls back to `previous`; the version returned to, or None when there is none.
    async fn return_to(
        &self,
        scope: &TenantScope,
        release: &Release,
        previous: Option<&ReleaseId>,
    ) -> Result<Option<i64>, String> {
        let Some(previous) = previous else { return Ok(None) };
        let target = {
            let mut tx = self.store.read().await.map_err(|e| e.to_string())?;
            tx.release(scope, previous).await.map_err(|e| e.to_string())?
        };
        let target = target.ok_or("the release live before it no longer exists")?;
        let rollback = Rollback {
            target: &target,
            reason: Some(format!(
                "automatic: release v{} crash-looped after going live",
                release.version
            )),
            retention: self.settings.release_retention,
            replacing: Some(release.id.clone()),
        };
        self.runtime
            .roll_back(&self.store, &self.secret_box, scope, rollback)
            .await
            .map(|_| Some(target.version))
            .map_err(|e| e.to_string())
    }
}
