//! `POST …/environments/<e>/deployments`: queue a build of the environment's branch.

use super::{DeploymentView, deployment_view};
use crate::api::git_input;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::EnvironmentPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::deployments::TriggerRequest;
use shipyard_core::{DeploymentTrigger, Role};
use shipyard_runtime::admission::Admission;
use shipyard_store::{Backend, Deployment, Deployments, NewDeployment, Project, SqliteStore, TenantScope, Tx};

/// Queues a deployment. One build runs at a time per environment; others wait in order.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/deployments",
    tag = "deployments", request_body = TriggerRequest,
    params(EnvironmentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = DeploymentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, description = "Role, or a suspended workspace", body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The project is paused or archived", body = ErrorBody),
    (status = 422, description = "Over the workspace's memory limit", body = ErrorBody),
    (status = 429, description = "Daily deploy quota used up; see Retry-After", body = ErrorBody)))]
pub async fn create_deployment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<DeploymentView>)> {
    let mut tx = state.store.write().await?;
    let (scope, project, env) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: TriggerRequest = if body.is_empty() {
        TriggerRequest::default()
    } else {
        body.parse()?
    };
    let branch = match req.branch.as_deref() {
        Some(b) => git_input::branch("branch", b)?,
        None => env.branch.clone(),
    };
    let note = req.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::bad_request("field `note` must be at most 500 characters"));
    }
    let new = NewDeployment {
        project_id: project.id.clone(),
        environment_id: env.id.clone(),
        branch,
        commit_sha: None,
        commit_message: None,
        note,
        trigger: DeploymentTrigger::Api,
        clear_cache: req.clear_cache.unwrap_or(false),
        retry_of: None,
    };
    let dep = queue(&state, &mut tx, &scope, &project, &new).await?;
    let view = deployment_view(&mut tx, &scope, dep).await?;
    SqliteStore::commit(tx).await?;
    state.jobs_queued.notify_one();
    Ok((StatusCode::CREATED, Json(view)))
}

/// Admits (quota, memory, a paused project) and queues a deployment; the caller commits and
/// wakes the workers.
pub async fn queue(
    state: &AppState,
    tx: &mut Tx,
    scope: &TenantScope,
    project: &Project,
    new: &NewDeployment,
) -> ApiResult<Deployment> {
    state
        .runtime
        .admit(
            tx,
            scope,
            (project, &new.environment_id),
            &project.runtime,
            Admission::Deploy,
        )
        .await?;
    Ok(tx.create_deployment(scope, new).await?)
}
