//! Environments of a project: production is made with it; others deploy other branches.

use super::{EnvironmentView, conflict, environment_view};
use crate::api::git_input;
use crate::api::views::display_name;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::{EnvironmentPath, ProjectPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::projects::{CreateEnvironmentRequest, UpdateEnvironmentRequest};
use shipyard_core::{Role, Slug};
use shipyard_store::{Backend, Environments, NewEnvironment, Projects, SqliteStore};

/// Adds an environment that deploys another branch.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects/{projectId}/environments", tag = "projects",
    request_body = CreateEnvironmentRequest,
    params(ProjectPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = EnvironmentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Slug or live host taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<EnvironmentView>)> {
    let mut tx = state.store.write().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: CreateEnvironmentRequest = body.parse()?;
    let name = display_name(&req.name, "name")?;
    let branch = git_input::branch("branch", &req.branch)?;
    let slug = Slug::from_name(&name, "env");
    shipyard_core::HostLabel::new(&project.slug, &slug)?;
    let new = NewEnvironment {
        name: name.clone(),
        slug,
        branch,
    };
    let env = tx
        .create_environment(&scope, &project, &new, false)
        .await
        .map_err(|e| conflict(e, &format!("`{name}`")))?;
    SqliteStore::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(environment_view(&state, &scope, env))))
}

/// Renames an environment or points it at another branch.
#[utoipa::path(patch, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}", tag = "projects",
    request_body = UpdateEnvironmentRequest,
    params(EnvironmentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = EnvironmentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
    body: JsonBody,
) -> ApiResult<Json<EnvironmentView>> {
    let mut tx = state.store.write().await?;
    let (scope, _, env) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: UpdateEnvironmentRequest = body.parse()?;
    let name = req.name.as_deref().map(|n| display_name(n, "name")).transpose()?;
    let branch = req
        .branch
        .as_deref()
        .map(|b| git_input::branch("branch", b))
        .transpose()?;
    let updated = tx
        .update_environment(&scope, &env.id, name.as_deref(), branch.as_deref())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("environment {} not found", path.environment_id)))?;
    SqliteStore::commit(tx).await?;
    Ok(Json(environment_view(&state, &scope, updated)))
}

/// Deletes an environment; the production environment goes only with its project.
#[utoipa::path(delete, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}", tag = "projects",
    params(EnvironmentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "The production environment", body = ErrorBody)))]
pub async fn delete_environment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    let (scope, project, env) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    if env.is_production {
        return Err(ApiError::conflict(
            "the production environment cannot be deleted; delete the project instead",
        ));
    }
    let (releases, deployments) = tx.leftovers(&scope, &project.id, Some(&env.id)).await?;
    tx.delete_environment(&scope, &env.id).await?;
    SqliteStore::commit(tx).await?;
    state.runtime.reconcile(&state.store, &state.secret_box).await;
    super::read::remove_leftovers(
        &state,
        scope.tenant_id(),
        &releases,
        &deployments,
        std::slice::from_ref(&env.id),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
