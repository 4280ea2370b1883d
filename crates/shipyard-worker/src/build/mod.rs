//! One deployment's build, from fetch to release. Every step says what it does in the build
//! log; a failure ends in one sentence naming the step, the command and its exit code or
//! reason.

mod confine;
mod disk;
mod failure;
mod inputs;
mod log;
mod pre_deploy;
mod release;
mod snapshot;
mod stages;
mod steps;

use confine::sandbox_identity;
use failure::{End, Failure};
use inputs::Inputs;
pub(crate) use log::BuildLog;
use snapshot::CacheUpdate;

use crate::context::Worker;
use shipyard_build::ArtifactStore;
use shipyard_build::build::HOME_DIR;
use shipyard_core::{DeploymentStatus, Redactor};
use shipyard_store::logs::LogKind;
use shipyard_store::{
    Backend, ClaimedJob, Deployment, DeploymentUpdate, Deployments, Jobs, SqliteStore, TenantScope, Transition,
};
use std::path::{Path, PathBuf};
use tokio::sync::watch;

impl Worker {
    /// Appends a system line that holds no tenant text (a build's own lines go through its
    /// `BuildLog`).
    pub(crate) async fn log(&self, stream: &str, text: impl Into<String>) {
        self.logs.writer().append(stream, LogKind::System, text).await;
    }

    /// Applies a guarded status change for this build's attempt; a change that loses (a
    /// cancel, a sweep, a newer attempt) comes back as the `Failure` saying why.
    async fn set_status(
        &self,
        scope: &TenantScope,
        dep: &Deployment,
        mut update: DeploymentUpdate,
        event: &str,
    ) -> Result<Deployment, Failure> {
        update.attempt = Some(dep.attempt);
        let mut tx = self.store.write().await?;
        let outcome = tx.update_deployment(scope, &dep.id, &update, event).await?;
        SqliteStore::commit(tx).await?;
        self.logs.notify();
        match outcome {
            Some(Transition::Applied(now)) => Ok(now),
            Some(Transition::Lost(now)) => Err(Failure::lost(&now, dep.attempt)),
            None => Err(Failure {
                end: End::Lost,
                error: "this build stops: the deployment was deleted".into(),
            }),
        }
    }

    /// Records how a build that did not make a release ended; the loser of a race only says
    /// so in the log.
    async fn record_end(&self, job: &ClaimedJob, log: &BuildLog, failure: &Failure) {
        let id = &job.deployment_id;
        log.close().await;
        let status = match failure.end {
            End::Lost => {
                log.say(&failure.error).await;
                log.flush().await;
                return;
            }
            End::Canceled => DeploymentStatus::Canceled,
            End::Failed => DeploymentStatus::Failed,
        };
        // The error is shown to every reader of the deployment: no secret value in it.
        let error = log.redact(&failure.error);
        log.say(format!("{}: {error}", status.as_str())).await;
        // Every line lands before the end is recorded, so a follower that sees the end has
        // all of them (and no write transaction waits on the log writer).
        log.flush().await;
        let update = DeploymentUpdate {
            status: Some(status),
            error: Some(error.clone()),
            attempt: Some(job.attempt),
            ..Default::default()
        };
        let recorded = async {
            let mut tx = self.store.write().await?;
            let scope = tx.worker_scope(&job.tenant_id).await?;
            let outcome = match scope {
                Some(scope) => tx.update_deployment(&scope, id, &update, &error).await?,
                None => None,
            };
            SqliteStore::commit(tx).await?;
            Ok::<_, shipyard_store::StoreError>(outcome)
        };
        match recorded.await {
            Ok(Some(Transition::Lost(now))) => {
                log.say(format!(
                    "this build stops: the deployment is already {}",
                    now.status.as_str()
                ))
                .await;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(deployment = %id, error = %e, "could not record the end of a build"),
        }
        self.logs.notify();
    }

    /// Builds a claimed job's deployment and records how it ended.
    #[tracing::instrument(name = "deployment", skip_all, fields(
        deployment = %job.deployment_id,
        attempt = job.attempt,
        tenant = tracing::field::Empty,
        project = tracing::field::Empty,
    ))]
    pub(crate) async fn process(&self, job: ClaimedJob) {
        let stream = shipyard_store::logs::build_stream(&job.deployment_id);
        let mut log = BuildLog::new(stream.clone(), Redactor::none(), self.logs.writer());
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let heartbeat = self.heartbeat(job.id, job.lease.clone(), cancel_tx);
        let mut disk = None;
        let mut workspace = None;
        let outcome = match self.inputs(&job).await {
            Ok(inputs) => {
                let span = tracing::Span::current();
                span.record("tenant", tracing::field::display(inputs.scope.tenant_id()));
                span.record("project", tracing::field::display(&inputs.project.id));
                log = BuildLog::new(stream, inputs.redactor.clone(), self.logs.writer());
                match self.build_disk(&inputs).await {
                    Ok(held) => {
                        // One workspace per attempt: an attempt whose lease was taken back may
                        // still be running in its own, and the next one must never start in a
                        // directory tenant code can write.
                        let ws = held
                            .path()
                            .join(disk::BUILDS)
                            .join(format!("{}-attempt{}", job.deployment_id, job.attempt));
                        let built = self.build(&inputs, &log, &ws, held.path(), cancel_rx).await;
                        (disk, workspace) = (Some(held), Some(ws));
                        built
                    }
                    Err(failure) => Err(failure),
                }
            }
            Err(failure) => Err(failure),
        };
        let update = match outcome {
            Ok(update) => Some(update),
            Err(failure) => {
                self.record_end(&job, &log, &failure).await;
                None
            }
        };
        // The lease is held until the workspace is gone: a build that leaves millions of files
        // must not let its job be taken back (and the same workspace reused) mid-removal.
        if let Some(workspace) = workspace {
            let removing = workspace.clone();
            let removed = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(removing)).await;
            if let Ok(Err(e)) = removed
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %workspace.display(), error = %e, "build workspace not removed");
            }
        }
        heartbeat.abort();
        let finished = async {
            let mut tx = self.store.write().await?;
            tx.finish_job(job.id, &job.lease).await?;
            SqliteStore::commit(tx).await
        };
        if let Err(e) = finished.await {
            tracing::error!(job = job.id, error = %e, "could not mark a job done");
        }
        self.logs.notify();
        // After the job is done (the environment's next build may start) but inside this
        // task, so the worker's shutdown waits for it like for the build.
        if let Some(update) = update {
            update.apply().await;
        }
        // Held until the cache is updated: the snapshot is written to it.
        drop(disk);
    }

    /// Fetches, prepares, runs the steps and makes the release; a cache update to apply once
    /// the job is done.
    async fn build(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        ws: &Path,
        disk: &Path,
        cancel: watch::Receiver<bool>,
    ) -> Result<CacheUpdate, Failure> {
        let fetched = self.fetch(inputs, log).await?;
        let prepared = self.prepare(inputs, log, ws, disk, &fetched).await?;
        let stages::Fetched {
            sandbox,
            network,
            doors,
            commit,
            ..
        } = fetched;
        let stages::Prepared {
            ctx,
            plan,
            cache,
            cache_use,
        } = prepared;
        let snapshot = cache_use.node_modules.is_some();
        // Opened before the build writes: a write that fails later is reported to this file.
        let opened =
            std::fs::File::open(disk).map_err(|e| Failure::new(format!("the build disk is unreadable: {e}")))?;
        let ran = self
            .run_steps(&sandbox, &plan, log, ctx, cache_use, cancel.clone())
            .await;
        // Nothing runs in the namespace any more. Removing it waits on pasta and `ip` (20–30 ms),
        // so it happens off the runtime and off the deploy's path; the name is this attempt's
        // alone, and a namespace a crash leaves behind is removed when the server starts.
        drop(doors);
        drop(tokio::task::spawn_blocking(move || drop(network)));
        let ran = match (ran, self.settle(inputs, disk, opened).await) {
            (Ok(()), Err(failure)) => Err(failure),
            (ran, _) => ran,
        };
        ran.map_err(|failure| self.explain_full_disk(inputs, disk, failure))?;
        let release = self.release(inputs, log, ws, &commit, cancel).await?;
        let artifact = ArtifactStore::of(self.runtime.workspaces(), inputs.scope.tenant_id().as_str()).path(&release);
        Ok(CacheUpdate {
            sandbox: self
                .sandbox
                .for_project(sandbox_identity(&sandbox), Path::new(HOME_DIR), None)
                .map_err(|e| Failure::new(e.to_string()))?,
            snapshot: snapshot.then(|| (artifact, PathBuf::from(&inputs.project.build.root_directory))),
            cache,
            tag: inputs.deployment.id.to_string(),
        })
    }
}

fn dep_ref(dep: &Deployment) -> String {
    shipyard_core::deployment::deployment_ref(dep.number)
}

async fn host_node_version() -> String {
    match tokio::process::Command::new("node").arg("--version").output().await {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => "no Node.js at all".to_owned(),
    }
}
