//! Returning an environment to one of its earlier releases: a new release made from the old
//! one's artifact, config snapshot and pinned secret versions, live when this returns. No
//! build; the same activation path as a deploy. `POST …/rollback` and the go-live watch's
//! automatic rollback both come through here.

use crate::{Runtime, StartError, Started};
use shipyard_build::ArtifactStore;
use shipyard_core::{ReleaseId, SecretBox};
use shipyard_store::{Backend, NewRelease, Projects, Release, Releases, Secrets, StoreError, TenantScope};
use thiserror::Error;

/// Why a rollback did not happen (nothing of it is left behind).
#[derive(Debug, Error)]
pub enum RollbackError {
    /// The release cannot be returned to now (already active, pruned, project paused).
    #[error("{0}")]
    Refused(String),
    /// The release or its project is gone, or its instances cannot start or never answered.
    #[error("{0}")]
    Unusable(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The artifact files could not be copied.
    #[error("the release's files could not be copied: {0}")]
    Files(String),
    /// The route table could not take the release.
    #[error(transparent)]
    Routes(#[from] crate::RuntimeError),
}

/// What to return to, and how.
pub struct Rollback<'a> {
    /// The release returned to.
    pub target: &'a Release,
    /// Why, kept in the new release's config as `rollbackReason`.
    pub reason: Option<String>,
    /// Releases kept per environment (`--release-retention`).
    pub retention: i64,
    /// For the go-live watch's automatic rollback: the release it replaces, waited for behind
    /// an activation in flight and rolled back only if it is still the active one then. None
    /// (a user's rollback): refused at once while another activation is in flight.
    pub replacing: Option<ReleaseId>,
}

/// Why `target` cannot be returned to now, if it cannot.
pub async fn check_target(
    tx: &mut (impl Projects + Send),
    scope: &TenantScope,
    target: &Release,
) -> Result<(), RollbackError> {
    let project = tx
        .project(scope, &target.project_id)
        .await?
        .ok_or_else(|| RollbackError::Unusable("field `releaseId`: its project no longer exists".into()))?;
    if let Some(why) = project.refuses("roll back") {
        return Err(RollbackError::Refused(why));
    }
    if target.active {
        return Err(RollbackError::Refused(format!(
            "release v{} is already the active release of its environment",
            target.version
        )));
    }
    if !target.artifact_available {
        return Err(RollbackError::Refused(format!(
            "release v{} can no longer be rolled back to: retention removed its files (--release-retention keeps the newest releases per environment)",
            target.version
        )));
    }
    Ok(())
}

impl Runtime {
    /// Makes a new release of `rollback.target`'s environment from it and makes it live:
    /// files first, then (for a server) its instances until they answer, then the route.
    #[tracing::instrument(name = "rollback", skip_all, fields(
        tenant = %scope.tenant_id(),
        target = %rollback.target.id,
        environment = %rollback.target.environment_id,
    ))]
    pub async fn roll_back<B: Backend>(
        &self,
        store: &B,
        secret_box: &SecretBox,
        scope: &TenantScope,
        rollback: Rollback<'_>,
    ) -> Result<Release, RollbackError> {
        let environment = &rollback.target.environment_id;
        let _activation = match &rollback.replacing {
            None => self.try_activation(environment).ok_or_else(|| {
                RollbackError::Refused(
                    "a rollback or deploy of this environment is going live; try again when it is done".into(),
                )
            })?,
            Some(replacing) => {
                let activation = self
                    .activation(environment)
                    .await
                    .ok_or_else(|| RollbackError::Unusable("the runtime is broken".into()))?;
                let active = store.read().await?.active_release(scope, environment).await?;
                if active.as_ref().map(|r| &r.id) != Some(replacing) {
                    return Err(RollbackError::Refused(
                        "a newer release went live in the meantime; nothing to roll back".into(),
                    ));
                }
                activation
            }
        };
        let artifacts = ArtifactStore::writable(&self.workspaces, scope.tenant_id().as_str())
            .map_err(|e| RollbackError::Files(e.to_string()))?;
        let id = ReleaseId::generate();
        // Off the async threads: a tree of many directories takes a while even as hard links.
        let (files, from, to) = (artifacts.clone(), rollback.target.id.clone(), id.clone());
        tokio::task::spawn_blocking(move || files.duplicate(&from, &to))
            .await
            .map_err(|e| RollbackError::Files(e.to_string()))?
            .map_err(|e| RollbackError::Files(e.to_string()))?;
        let outcome = match self
            .start_rollback(store, secret_box, scope, rollback.target, &id)
            .await
        {
            Ok(started) => {
                let activated = self.activate_rollback(store, scope, &rollback, &id).await;
                drop(started);
                activated
            }
            Err(e) => Err(e),
        };
        if outcome.is_ok() {
            self.retire_inactive(store, true).await;
        } else {
            // Instances it started (the route never moved to them) stop with it.
            self.retire_inactive(store, false).await;
        }
        let (remove, result) = match outcome {
            Ok((release, pruned)) => {
                self.say_dropped(&release).await;
                (pruned, Ok(release))
            }
            Err(e) => (vec![id], Err(e)),
        };
        let _ = tokio::task::spawn_blocking(move || {
            for old in remove {
                if let Err(e) = artifacts.remove(&old) {
                    tracing::warn!(release = %old, error = %e, "a release's artifact could not be removed");
                }
            }
        })
        .await;
        result
    }

    /// Says in the new release's runtime log which databases it runs without.
    async fn say_dropped(&self, release: &Release) {
        let (Some(driver), false) = (&self.driver, release.config.dropped_attachments.is_empty()) else {
            return;
        };
        let gone: Vec<String> = release
            .config
            .dropped_attachments
            .iter()
            .map(|a| format!("{} (database {})", a.env_var, a.database_id))
            .collect();
        let line = format!(
            "rolled back without {}: detached since the release it returns to was made",
            gone.join(", ")
        );
        let stream = shipyard_store::logs::runtime_stream(&release.id);
        driver
            .logs
            .append(&stream, shipyard_store::logs::LogKind::System, &line)
            .await;
    }

    /// Starts the instances of rollback release `id` (the files of `target`, its config and
    /// pinned secrets) when it runs a server, and waits for them to answer.
    async fn start_rollback<B: Backend>(
        &self,
        store: &B,
        secret_box: &SecretBox,
        scope: &TenantScope,
        target: &Release,
        id: &ReleaseId,
    ) -> Result<Option<Started>, RollbackError> {
        let mut tx = store.write().await?;
        let startable = self
            .startable(
                &mut tx,
                secret_box,
                scope,
                (&target.project_id, &target.environment_id),
                (id, &target.id),
                &target.config,
            )
            .await
            .map_err(|why| RollbackError::Unusable(format!("release v{} cannot be started: {why}", target.version)))?;
        let budget = crate::memory_budget::Budget::of(&mut tx, scope, "this rollback").await?;
        B::commit(tx).await?;
        let Some(mut spec) = startable else { return Ok(None) };
        spec.budget = Some(budget);
        let within = spec.health_within;
        self.start_release(spec).await.map(Some).map_err(|e| match e {
            StartError::OverBudget(why) => RollbackError::Unusable(why),
            StartError::Unhealthy(why, _) => RollbackError::Unusable(format!(
                "release v{} did not become healthy within {} s: {why}; the active release keeps serving",
                target.version,
                within.as_secs()
            )),
        })
    }

    /// Records the new release with the old one's config and pins and makes it live, in one
    /// transaction under the route lock; returns it with the releases retention pruned.
    async fn activate_rollback<B: Backend>(
        &self,
        store: &B,
        scope: &TenantScope,
        rollback: &Rollback<'_>,
        id: &ReleaseId,
    ) -> Result<(Release, Vec<ReleaseId>), RollbackError> {
        let mut routes = self.lock().await;
        let mut tx = store.write().await?;
        // Checked again under the write lock: a pause or another rollback may have come first.
        let target = tx
            .release(scope, &rollback.target.id)
            .await?
            .ok_or_else(|| RollbackError::Unusable(format!("release v{} no longer exists", rollback.target.version)))?;
        check_target(&mut tx, scope, &target).await?;
        // The reason is this rollback's own, never one its target carried; so are the
        // databases it runs with: those of its target's still attached.
        let (attachments, dropped_attachments) = shipyard_store::attached::still_attached(
            &mut tx,
            scope,
            (&target.project_id, &target.environment_id),
            &target.config.attachments,
        )
        .await?;
        let config = shipyard_core::ReleaseConfig {
            rollback_reason: rollback.reason.clone(),
            attachments,
            dropped_attachments,
            ..target.config.clone()
        };
        let release = tx
            .create_release(
                scope,
                &NewRelease {
                    id: id.clone(),
                    project_id: target.project_id.clone(),
                    environment_id: target.environment_id.clone(),
                    deployment_id: None,
                    commit_sha: target.commit_sha.clone(),
                    rollback_of: Some(target.id.clone()),
                    config,
                },
            )
            .await?;
        let pins: Vec<_> = tx
            .release_secret_versions(scope, target.id.as_str())
            .await?
            .into_iter()
            .map(|s| (s.secret_id, s.version))
            .collect();
        tx.pin_secret_versions(scope, release.id.as_str(), &pins).await?;
        routes
            .activate(&mut tx, scope, &release.id, &release.environment_id)
            .await?;
        let pruned = tx
            .prune_releases(scope, &release.environment_id, rollback.retention)
            .await?;
        let live = tx.release(scope, &release.id).await?.unwrap_or(release);
        // Any return before this point drops the lock uncommitted, which puts the old route back.
        B::commit(tx).await?;
        routes.committed();
        Ok((live, pruned))
    }
}
