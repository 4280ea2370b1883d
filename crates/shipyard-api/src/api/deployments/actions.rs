//! Cancel and retry.

use super::{DeploymentView, deployment_view, find_deployment};
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::paths::DeploymentPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shipyard_core::{DeploymentTrigger, Role};
use shipyard_runtime::admission::Admission;
use shipyard_store::{Backend, Deployments, NewDeployment, Projects, SqliteStore};

/// Cancels a queued or running deployment; a running build's whole process tree is ended.
#[utoipa::path(post, path = "/tenants/{tenantId}/deployments/{deploymentId}/cancel", tag = "deployments",
    params(DeploymentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 202, description = "Cancel requested (or done, for a queued deployment)", body = DeploymentView),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Already finished", body = ErrorBody)))]
pub async fn create_cancel(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DeploymentPath>,
) -> ApiResult<(StatusCode, Json<DeploymentView>)> {
    let mut tx = state.store.write().await?;
    let (scope, dep) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    if dep.status.is_terminal() {
        return Err(ApiError::conflict(format!(
            "deployment {} is already {}; only queued, building or deploying deployments can be canceled",
            path.deployment_id,
            dep.status.as_str()
        )));
    }
    tx.request_cancel(&scope, &dep.id).await?;
    let dep = find_deployment(&mut tx, &scope, dep.id.as_str()).await?;
    let view = deployment_view(&mut tx, &scope, dep).await?;
    SqliteStore::commit(tx).await?;
    state.logs.notify();
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// Deploys the same commit again, with the project's current configuration.
#[utoipa::path(post, path = "/tenants/{tenantId}/deployments/{deploymentId}/retry", tag = "deployments",
    params(DeploymentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = DeploymentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "Still running, or the project is paused", body = ErrorBody),
    (status = 422, description = "Over the workspace's memory limit", body = ErrorBody),
    (status = 429, description = "Daily deploy quota used up", body = ErrorBody)))]
pub async fn create_retry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DeploymentPath>,
) -> ApiResult<(StatusCode, Json<DeploymentView>)> {
    let mut tx = state.store.write().await?;
    let (scope, dep) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    if !dep.status.is_terminal() {
        return Err(ApiError::conflict(format!(
            "deployment {} is still {}; retry it once it has finished",
            path.deployment_id,
            dep.status.as_str()
        )));
    }
    let project = tx
        .project(&scope, &dep.project_id)
        .await?
        .ok_or_else(|| ApiError::not_found("project not found"))?;
    let what = (&project, &dep.environment_id);
    state
        .runtime
        .admit(&mut tx, &scope, what, &project.runtime, Admission::Retry)
        .await?;
    let new = NewDeployment {
        project_id: dep.project_id.clone(),
        environment_id: dep.environment_id.clone(),
        branch: dep.branch.clone(),
        commit_sha: dep.commit_sha.clone(),
        commit_message: dep.commit_message.clone(),
        note: dep.note.clone(),
        trigger: DeploymentTrigger::Retry,
        clear_cache: dep.clear_cache,
        retry_of: Some(dep.id.clone()),
    };
    let made = tx.create_deployment(&scope, &new).await?;
    let view = deployment_view(&mut tx, &scope, made).await?;
    SqliteStore::commit(tx).await?;
    state.jobs_queued.notify_one();
    Ok((StatusCode::CREATED, Json(view)))
}
