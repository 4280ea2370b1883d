//! `POST /tenants/<t>/rollback`: a new release of an environment made from an older one's
//! artifact, config snapshot and pinned secret versions, live when the answer comes. No
//! build, no deployment, no quota; the same activation path as a deploy.

use crate::api::deployments::check_memory;
use crate::api::releases::ReleaseView;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shipyard_build::ArtifactStore;
use shipyard_core::{ProjectStatus, ReleaseId, Role};
use shipyard_store::{Backend, NewRelease, Projects, Release, Releases, Secrets, SqliteStore};
use utoipa::ToSchema;

/// `POST /tenants/<t>/rollback`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackRequest {
    /// The release to return to (`rel_…`); its environment is the one rolled back.
    pub release_id: String,
    /// Why, kept with the new release.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// Rolls an environment back to one of its earlier releases.
#[utoipa::path(post, path = "/tenants/{tenantId}/rollback", tag = "deployments", request_body = RollbackRequest,
    params(("tenantId" = String, Path, description = "`ten_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "The new release, live", body = ReleaseView), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Already active, pruned, or the project is paused or archived", body = ErrorBody),
    (status = 422, description = "No such release in this workspace, or over the workspace's memory limit", body = ErrorBody)))]
pub async fn create_rollback(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(tenant_id): ApiPath<String>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<ReleaseView>)> {
    // The contract's order: the path (404), the role (403), the body (400), references (422).
    let (target, reason) = {
        let mut tx = state.store.read().await?;
        let scope = auth.tenant(&mut tx, &tenant_id).await?;
        require_write(&scope, Role::Member)?;
        let req: RollbackRequest = body.parse()?;
        let reason = req.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(ApiError::bad_request("field `reason` must be at most 500 characters"));
        }
        let target = find_target(&mut tx, &scope, &req.release_id).await?;
        check_target(&mut tx, &scope, &target).await?;
        if let Some(runtime) = target.runtime() {
            let env = std::slice::from_ref(&target.environment_id);
            check_memory(&mut tx, &scope, &runtime, env, "this rollback").await?;
        }
        (target, reason)
    };
    // Run to the end even if the client goes away: a half-done rollback would leave files no
    // release owns.
    let task = tokio::spawn(async move {
        let artifacts =
            ArtifactStore::new(state.settings.data_dir.join("artifacts")).map_err(|e| ApiError::internal(&e))?;
        let id = ReleaseId::generate();
        // The files first, outside any transaction, off the async threads (a tree of many
        // directories takes a while even as hard links).
        let (store, from, to) = (artifacts.clone(), target.id.clone(), id.clone());
        tokio::task::spawn_blocking(move || store.duplicate(&from, &to))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(|e| ApiError::internal(&e))?;
        // A server release's instances answer before the route moves to them.
        if let Err(e) = start_instances(&state, &auth, &tenant_id, &target, &id).await {
            let (store, id) = (artifacts.clone(), id.clone());
            let _ = tokio::task::spawn_blocking(move || store.remove(&id)).await;
            return Err(e);
        }
        let outcome = activate(&state, &auth, &tenant_id, &target, &id, reason).await;
        if outcome.is_ok() {
            state.runtime.retire_inactive(&state.store, true).await;
        }
        let (remove, result) = match outcome {
            Ok((release, pruned)) => (pruned, Ok(release)),
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
    });
    let release = task.await.map_err(|e| ApiError::internal(&e))??;
    Ok((StatusCode::CREATED, Json(release.into())))
}

/// Starts the instances of rollback release `id` (the files of `target`, its config and
/// pinned secrets) when it runs a server, and waits for them to answer.
async fn start_instances(
    state: &AppState,
    auth: &Auth,
    tenant_id: &str,
    target: &Release,
    id: &ReleaseId,
) -> ApiResult<()> {
    let mut tx = state.store.write().await?;
    let scope = auth.tenant(&mut tx, tenant_id).await?;
    let startable = state
        .runtime
        .startable(
            &mut tx,
            &state.secret_box,
            &scope,
            &target.project_id,
            (id, &target.id),
            &target.config,
        )
        .await
        .map_err(|why| ApiError::unprocessable(format!("release v{} cannot be started: {why}", target.version)))?;
    SqliteStore::commit(tx).await?;
    let Some(spec) = startable else { return Ok(()) };
    let within = spec.health_within;
    state.runtime.start_release(spec).await.map_err(|(why, _)| {
        ApiError::unprocessable(format!(
            "release v{} did not become healthy within {} s: {why}; the active release keeps serving",
            target.version,
            within.as_secs()
        ))
    })
}

/// The release `raw` names in this workspace, or 422 naming the field.
async fn find_target(
    tx: &mut shipyard_store::Tx,
    scope: &shipyard_store::TenantScope,
    raw: &str,
) -> ApiResult<Release> {
    let missing = || {
        ApiError::unprocessable(format!(
            "field `releaseId`: release {raw} does not exist in this workspace"
        ))
    };
    let id = ReleaseId::parse(raw).map_err(|_| missing())?;
    tx.release(scope, &id).await?.ok_or_else(missing)
}

/// 409 when the release cannot be returned to, saying why.
async fn check_target(
    tx: &mut shipyard_store::Tx,
    scope: &shipyard_store::TenantScope,
    target: &Release,
) -> ApiResult<()> {
    let project = tx
        .project(scope, &target.project_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable("field `releaseId`: its project no longer exists"))?;
    if project.status != ProjectStatus::Active {
        return Err(ApiError::conflict(format!(
            "project {} is {}; set its status to active to roll back",
            project.slug,
            project.status.as_str()
        )));
    }
    if target.active {
        return Err(ApiError::conflict(format!(
            "release v{} is already the active release of its environment",
            target.version
        )));
    }
    if !target.artifact_available {
        return Err(ApiError::conflict(format!(
            "release v{} can no longer be rolled back to: retention removed its files (--release-retention keeps the newest releases per environment)",
            target.version
        )));
    }
    Ok(())
}

/// Records the new release with the old one's config and pins and makes it live, in one
/// transaction under the route lock; returns it with the releases retention pruned.
async fn activate(
    state: &AppState,
    auth: &Auth,
    tenant_id: &str,
    target: &Release,
    id: &ReleaseId,
    reason: Option<String>,
) -> ApiResult<(Release, Vec<ReleaseId>)> {
    let mut routes = state.runtime.lock().await;
    let mut tx = state.store.write().await?;
    let scope = auth.tenant(&mut tx, tenant_id).await?;
    // Checked again under the write lock: a pause or another rollback may have come first.
    let target = find_target(&mut tx, &scope, target.id.as_str()).await?;
    check_target(&mut tx, &scope, &target).await?;
    let mut config: serde_json::Value = serde_json::from_str(&target.config).unwrap_or_default();
    if let Some(reason) = reason {
        config["rollbackReason"] = serde_json::Value::String(reason);
    }
    let release = tx
        .create_release(
            &scope,
            &NewRelease {
                id: id.clone(),
                project_id: target.project_id.clone(),
                environment_id: target.environment_id.clone(),
                deployment_id: None,
                commit_sha: target.commit_sha.clone(),
                rollback_of: Some(target.id.clone()),
                config: config.to_string(),
            },
        )
        .await?;
    let pins: Vec<_> = tx
        .release_secret_versions(&scope, target.id.as_str())
        .await?
        .into_iter()
        .map(|s| (s.secret_id, s.version))
        .collect();
    tx.pin_secret_versions(&scope, release.id.as_str(), &pins).await?;
    routes
        .activate(&mut tx, &scope, &release.id, &release.environment_id)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let pruned = tx
        .prune_releases(&scope, &release.environment_id, state.settings.release_retention)
        .await?;
    let live = tx.release(&scope, &release.id).await?.unwrap_or(release);
    // Any return before this point drops the lock uncommitted, which puts the old route back.
    SqliteStore::commit(tx).await?;
    routes.committed();
    Ok((live, pruned))
}
