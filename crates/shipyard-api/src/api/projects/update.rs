//! Changing a project: its details, its build configuration, its runtime configuration.
//! Changes take effect at the next deployment.

use super::config::{ApplyPatch, BuildConfigPatch, RuntimeConfigPatch};
use super::{ProjectView, project_view, validate};
use crate::api::views::display_name;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::ProjectPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
pub use shipyard_api_types::projects::UpdateProjectRequest;
use shipyard_core::{ProjectStatus, Role};
use shipyard_store::{Backend, Project, ProjectPatch, Projects, Releases, SqliteStore, TenantScope, Tx};

/// Opens the project for a change: 404, then 403, in the contract's order.
async fn writable(state: &AppState, auth: &Auth, path: &ProjectPath) -> ApiResult<(Tx, TenantScope, Project)> {
    let mut tx = state.store.write().await?;
    let (scope, project) = path.load(auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    Ok((tx, scope, project))
}

async fn save(
    state: &AppState,
    mut tx: Tx,
    scope: &TenantScope,
    project: &Project,
    patch: ProjectPatch,
) -> ApiResult<ProjectView> {
    let updated = tx
        .update_project(scope, &project.id, &patch)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("project {} not found", project.id)))?;
    let view = project_view(state, &mut tx, scope, updated).await?;
    SqliteStore::commit(tx).await?;
    Ok(view)
}

/// What follows a change of status (`from` to `to`): the routes (503 while paused or
/// archived) and the instances (stopped when paused; started, health-gated, when active again).
async fn follow_status(state: &AppState, from: ProjectStatus, to: Option<ProjectStatus>) {
    if to.is_some_and(|to| to != from) {
        state.runtime.reconcile(&state.store, &state.secret_box).await;
    }
}

/// Renames, describes, moves the root directory of, pauses, archives or reactivates a project.
#[utoipa::path(patch, path = "/tenants/{tenantId}/projects/{projectId}", tag = "projects", request_body = UpdateProjectRequest,
    params(ProjectPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ProjectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_project(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    body: JsonBody,
) -> ApiResult<Json<ProjectView>> {
    let (tx, scope, project) = writable(&state, &auth, &path).await?;
    let req: UpdateProjectRequest = body.parse()?;
    let mut patch = ProjectPatch {
        name: req.name.as_deref().map(|n| display_name(n, "name")).transpose()?,
        status: req.status,
        ..ProjectPatch::default()
    };
    if let Some(description) = req.description {
        if description.chars().count() > 1000 {
            return Err(ApiError::bad_request(
                "field `description` must be at most 1000 characters",
            ));
        }
        patch.description = Some(description.trim().to_owned());
    }
    if let Some(root) = req.root_directory {
        let mut build = project.build.clone();
        build.root_directory = validate::directory("rootDirectory", &root)?;
        patch.build = Some(build);
    }
    let status = patch.status;
    let view = save(&state, tx, &scope, &project, patch).await?;
    follow_status(&state, project.status, status).await;
    Ok(Json(view))
}

/// Changes how the project builds; `null` unsets a field.
#[utoipa::path(patch, path = "/tenants/{tenantId}/projects/{projectId}/build-config", tag = "projects",
    request_body = BuildConfigPatch,
    params(ProjectPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ProjectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_build_config(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    body: JsonBody,
) -> ApiResult<Json<ProjectView>> {
    let (tx, scope, project) = writable(&state, &auth, &path).await?;
    let req: BuildConfigPatch = body.parse()?;
    let mut build = project.build.clone();
    req.apply(&mut build, project.project_type)?;
    let patch = ProjectPatch {
        build: Some(build),
        ..ProjectPatch::default()
    };
    Ok(Json(save(&state, tx, &scope, &project, patch).await?))
}

/// Changes how the project runs; `null` unsets a field.
#[utoipa::path(patch, path = "/tenants/{tenantId}/projects/{projectId}/runtime-config", tag = "projects",
    request_body = RuntimeConfigPatch,
    params(ProjectPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ProjectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_runtime_config(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    body: JsonBody,
) -> ApiResult<Json<ProjectView>> {
    let (mut tx, scope, project) = writable(&state, &auth, &path).await?;
    let req: RuntimeConfigPatch = body.parse()?;
    let mut runtime = project.runtime.clone();
    req.apply(&mut runtime, project.project_type)?;
    // Checked against the environments that run a release now (their next deploy runs this),
    // or, with none yet, against the first one that will.
    let running: Vec<_> = tx
        .active_releases(&scope)
        .await?
        .into_iter()
        .filter(|r| r.project_id == project.id)
        .map(|r| r.environment_id)
        .collect();
    state
        .runtime
        .check_memory(&mut tx, &scope, &runtime, &running, "this runtime config")
        .await?;
    let patch = ProjectPatch {
        runtime: Some(runtime),
        ..ProjectPatch::default()
    };
    Ok(Json(save(&state, tx, &scope, &project, patch).await?))
}
