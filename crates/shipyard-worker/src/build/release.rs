//! Turning a successful build into a release: check the output, store the artifact, record
//! the release with its config and secret versions, activate it unless a newer one is live,
//! and prune what retention no longer keeps.

use super::{BuildLog, Failure, Inputs};
use crate::context::Worker;
use crate::go_live::Watched;
use shipyard_build::ArtifactStore;
use shipyard_core::{DeploymentStatus, ReleaseId, RuntimeType};
use shipyard_runtime::{StartError, Started};
use shipyard_store::{
    Backend, DeploymentUpdate, Deployments, NewRelease, Release, Releases, Secrets, SqliteStore, Transition,
};
use std::path::Path;
use tokio::sync::watch;

impl Worker {
    /// Makes the built workspace `ws` a release of `commit` and takes it live.
    pub(super) async fn release(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        ws: &Path,
        commit: &str,
        cancel: watch::Receiver<bool>,
    ) -> Result<ReleaseId, Failure> {
        let (release, artifacts) = self.record(inputs, log, ws, commit).await?;
        self.go_live(inputs, log, release, artifacts, cancel).await
    }

    /// Stores the release's files (checked for size and links) and records its row, unless
    /// the deployment was canceled or taken back meanwhile.
    #[tracing::instrument(name = "record", skip_all)]
    async fn record(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        ws: &Path,
        commit: &str,
    ) -> Result<(Release, ArtifactStore), Failure> {
        let Inputs {
            scope,
            deployment: dep,
            project,
            ..
        } = inputs;
        let root = &project.build.root_directory;
        let app = if root.is_empty() {
            ws.join("src")
        } else {
            ws.join("src").join(root)
        };
        if project.runtime.runtime_type == RuntimeType::Static {
            let out = project.build.output_directory.as_deref().ok_or_else(|| {
                Failure::new("outputDirectory is not set for this static project; set it with PATCH …/build-config")
            })?;
            let dir = app.join(out);
            let has_files = std::fs::read_dir(&dir).map(|mut d| d.next().is_some());
            match has_files {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Failure::new(format!(
                        "output directory `{out}` is empty after the build"
                    )));
                }
                Err(_) => {
                    return Err(Failure::new(format!(
                        "output directory `{out}` does not exist after the build"
                    )));
                }
            }
        }
        self.set_status(
            scope,
            dep,
            DeploymentUpdate {
                status: Some(DeploymentStatus::Deploying),
                ..Default::default()
            },
            "storing the artifact",
        )
        .await?;
        self.check_artifact_size(inputs, &ws.join("src")).await?;
        let release_id = ReleaseId::generate();
        let artifacts = ArtifactStore::writable(self.runtime.workspaces(), scope.tenant_id().as_str())
            .map_err(|e| Failure::new(format!("the artifact store failed: {e}")))?;
        let stored = artifacts.store(&ws.join("src"), &release_id).map_err(|e| {
            let failure = Failure::new(format!("the artifact could not be stored: {e}"));
            self.discard_artifact(&artifacts, &release_id);
            self.explain_full_workspace(inputs, failure)
        })?;
        // Checked where it will be served from: a relative link reads differently after a move.
        if let Err(failure) = self.check_links(&stored, project) {
            self.discard_artifact(&artifacts, &release_id);
            return Err(failure);
        }
        log.say(format!("Artifact stored as release {release_id}")).await;

        let config = shipyard_core::ReleaseConfig {
            build: project.build.clone(),
            runtime: project.runtime.clone(),
            secret_versions: inputs
                .secrets
                .iter()
                .map(|s| shipyard_core::PinnedSecret {
                    secret_id: s.secret_id.to_string(),
                    name: s.name.to_string(),
                    version: s.version,
                })
                .collect(),
            attachments: inputs
                .attached
                .iter()
                .map(|a| shipyard_core::PinnedAttachment {
                    database_id: a.database_id.to_string(),
                    env_var: a.env_var.clone(),
                })
                .collect(),
            dropped_attachments: Vec::new(),
            rollback_reason: None,
        };
        // First the release row, guarded like a status change so a cancel that came in during
        // the copy leaves no release behind.
        let mut tx = self.store.write().await?;
        let release = tx
            .create_release(
                scope,
                &NewRelease {
                    id: release_id.clone(),
                    project_id: project.id.clone(),
                    environment_id: dep.environment_id.clone(),
                    deployment_id: Some(dep.id.clone()),
                    commit_sha: commit.to_owned(),
                    rollback_of: None,
                    config,
                },
            )
            .await?;
        let pins: Vec<_> = inputs
            .secrets
            .iter()
            .map(|s| (s.secret_id.clone(), s.version))
            .collect();
        tx.pin_secret_versions(scope, release.id.as_str(), &pins).await?;
        // A change of no field: only the guard and the event.
        let update = DeploymentUpdate {
            attempt: Some(dep.attempt),
            ..DeploymentUpdate::default()
        };
        let recorded = tx
            .update_deployment(scope, &dep.id, &update, &format!("release v{} stored", release.version))
            .await?;
        match recorded {
            Some(Transition::Applied(_)) => SqliteStore::commit(tx).await?,
            Some(Transition::Lost(now)) => {
                drop(tx);
                self.discard_artifact(&artifacts, &release_id);
                return Err(Failure::lost(&now, dep.attempt));
            }
            None => {
                drop(tx);
                self.discard_artifact(&artifacts, &release_id);
                return Err(Failure::new("the deployment was deleted"));
            }
        }

        tracing::info!(release = %release.id, version = %release.version, "release recorded");
        Ok((release, artifacts))
    }

    /// Starts a server release's instances until they answer, then routes the environment to
    /// it in the transaction that marks the deployment ready, and watches it go live.
    #[tracing::instrument(name = "go_live", skip_all, fields(release = %release.id))]
    async fn go_live(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        release: Release,
        artifacts: ArtifactStore,
        cancel: watch::Receiver<bool>,
    ) -> Result<ReleaseId, Failure> {
        let Inputs {
            scope,
            deployment: dep,
            project,
            ..
        } = inputs;
        // Before anything of it runs, and before the environment is held: migrations may take
        // a while, and the release it would replace serves meanwhile.
        if project.runtime.runtime_type != RuntimeType::Static
            && let Err(failure) = self.pre_deploy(inputs, log, &release, cancel).await
        {
            self.forget_release(inputs, &release.id, &artifacts).await;
            return Err(failure);
        }
        // One activation at a time per environment: a rollback (or an earlier deploy) going
        // live there first finishes, then this one starts its instances and swaps.
        let _activation = self
            .runtime
            .activation(&dep.environment_id)
            .await
            .ok_or_else(|| Failure::new("the runtime is broken"))?;
        // A server release takes traffic only once its instances answer; held as started
        // until its activation commits, so no one retires them for replaced meanwhile.
        let started = if project.runtime.runtime_type == RuntimeType::Static {
            None
        } else {
            match self.start_instances(inputs, log, &release).await {
                Ok(started) => Some(started),
                Err(failure) => {
                    self.forget_release(inputs, &release.id, &artifacts).await;
                    return Err(failure);
                }
            }
        };

        // The last line lands before the end is recorded, and no write transaction waits for
        // the log writer while other builds flood it.
        let newer_active = !self
            .store
            .read()
            .await?
            .is_newer_than_active(scope, &release.id)
            .await?;
        let said = if newer_active {
            format!("release v{} stored; a newer release stays active", release.version)
        } else {
            format!("release v{} is active", release.version)
        };
        log.close().await;
        log.say(format!("Ready: {said}")).await;
        log.flush().await;

        // The route changes inside this transaction: `ready` is only seen once the live URL
        // serves the release (or a newer one).
        let mut routes = self.runtime.lock().await;
        let mut tx = self.store.write().await?;
        let update = DeploymentUpdate {
            status: Some(DeploymentStatus::Ready),
            release_id: Some(release.id.clone()),
            attempt: Some(dep.attempt),
            ..DeploymentUpdate::default()
        };
        match tx.update_deployment(scope, &dep.id, &update, &said).await? {
            Some(Transition::Applied(_)) => {}
            Some(Transition::Lost(now)) => {
                drop((tx, routes, started));
                self.forget_release(inputs, &release.id, &artifacts).await;
                return Err(Failure::lost(&now, dep.attempt));
            }
            None => {
                // Deleted while its instances started: they stop with it.
                drop((tx, routes, started));
                self.runtime.retire_inactive(&self.store, false).await;
                return Err(Failure::new("the deployment was deleted"));
            }
        }
        let previous = tx.active_release(scope, &dep.environment_id).await?.map(|r| r.id);
        let activated = routes
            .activate(&mut tx, scope, &release.id, &dep.environment_id)
            .await
            .map_err(|e| Failure::new(format!("the release could not go live: {e}")))?;
        if activated {
            tracing::info!(release = %release.id, version = %release.version, "went live");
        } else if !newer_active {
            tracing::info!(release = %release.id, "a newer release went live while this one was being recorded");
        }
        let pruned = tx
            .prune_releases(scope, &dep.environment_id, self.settings.release_retention)
            .await?;
        // A failed commit drops the lock uncommitted, which puts the old route back.
        SqliteStore::commit(tx).await?;
        routes.committed();
        drop(started);
        // The release it replaced drains, then stops.
        self.runtime.retire_inactive(&self.store, true).await;
        self.logs.notify();
        if activated && project.runtime.runtime_type != RuntimeType::Static {
            self.watch_go_live(Watched {
                scope: scope.clone(),
                deployment: dep.id.clone(),
                log: log.clone(),
                release: release.clone(),
                previous,
            });
        }
        // The rows already say the files are gone; a file left behind only costs disk.
        let store = artifacts.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for old in pruned {
                if let Err(e) = store.remove(&old) {
                    tracing::warn!(release = %old, error = %e, "pruned release's artifact could not be removed");
                }
            }
        })
        .await;
        Ok(release.id)
    }

    /// Refuses an artifact with a link into the platform's files (the data directory, the work
    /// root with its caches and other builds), and a static site whose output directory is a
    /// link out of the repository.
    fn check_links(&self, src: &Path, project: &shipyard_store::Project) -> Result<(), Failure> {
        let forbidden = self.settings.layout.private_roots();
        shipyard_sandbox::check_links(src, &forbidden)
            .map_err(|e| Failure::new(format!("the build left a link Shipyard will not release: {e}")))?;
        if project.runtime.runtime_type == RuntimeType::Static
            && let Some(out) = project.build.output_directory.as_deref()
        {
            let rel = Path::new(&project.build.root_directory).join(out);
            if !shipyard_sandbox::stays_inside(src, &rel) {
                let target = std::fs::canonicalize(src.join(&rel)).unwrap_or_else(|_| src.join(&rel));
                return Err(Failure::new(format!(
                    "output directory `{out}` is a symlink to {}, outside the repository",
                    target.display()
                )));
            }
        }
        Ok(())
    }

    /// Starts a server release's instances and waits for them to answer their health check.
    async fn start_instances(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        release: &shipyard_store::Release,
    ) -> Result<Started, Failure> {
        // The workspace may have changed since the deploy was accepted: checked again when the
        // instances start, against what runs then.
        let budget = {
            let mut tx = self.store.read().await?;
            let what = format!("release v{}", release.version);
            shipyard_runtime::memory_budget::Budget::of(&mut tx, &inputs.scope, what).await?
        };
        let mut spec = self.release_spec(inputs, release).await?;
        spec.budget = Some(budget);
        log.say(format!(
            "Starting {} instance(s) of release v{}: {}",
            spec.count, release.version, spec.start_command
        ))
        .await;
        let (path, within) = (spec.health_path.clone(), spec.health_within);
        match self.runtime.start_release(spec).await {
            Ok(started) => {
                log.say(format!("release v{} is healthy: GET {path} answered", release.version))
                    .await;
                Ok(started)
            }
            Err(StartError::OverBudget(why)) => Err(Failure::new(why)),
            Err(StartError::Unhealthy(why, lines)) => {
                for line in lines.iter().rev().take(10).rev() {
                    log.say(format!("| {}", log.redact(line))).await;
                }
                Err(Failure::new(format!(
                    "release v{} did not become healthy within {} s: {why}",
                    release.version,
                    within.as_secs()
                )))
            }
        }
    }

    /// Removes a release that lost to a cancel before it became anyone's: row, pins, files.
    async fn forget_release(&self, inputs: &Inputs, id: &ReleaseId, artifacts: &ArtifactStore) {
        let forgotten = async {
            let mut tx = self.store.write().await?;
            tx.delete_unused_release(&inputs.scope, id).await?;
            SqliteStore::commit(tx).await
        };
        if let Err(e) = forgotten.await {
            tracing::warn!(release = %id, error = %e, "a canceled deployment's release row was not removed");
        }
        // Instances it had started (it lost to a cancel after they answered) stop with it.
        self.runtime.retire_inactive(&self.store, false).await;
        self.discard_artifact(artifacts, id);
    }

    fn discard_artifact(&self, artifacts: &ArtifactStore, id: &ReleaseId) {
        if let Err(e) = artifacts.remove(id) {
            tracing::warn!(release = %id, error = %e, "a canceled deployment's artifact was not removed");
        }
    }
}
