//! Listing, reading and deleting projects.

use super::{ProjectView, project_view};
use crate::auth::{Auth, require_write};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery, filter};
use crate::paths::{ProjectPath, TenantPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shipyard_core::{DeploymentId, EnvironmentId, ProjectStatus, ReleaseId, Role};
use shipyard_store::{Backend, Environments, ProjectFilter, Projects, SqliteStore};
use utoipa::IntoParams;

/// Filters of the project list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// Case-insensitive part of the name or slug.
    pub search: Option<String>,
    /// active, paused or archived.
    #[param(value_type = Option<shipyard_core::ProjectStatus>)]
    pub status: Option<String>,
}

/// The workspace's projects.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects", tag = "projects",
    params(TenantPath, ProjectQuery, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<ProjectView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    ApiQuery(query): ApiQuery<ProjectQuery>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<ProjectView>>> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let status = filter("status", query.status.as_deref(), ProjectStatus::parse)?;
    let search = query.search.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let paged = tx
        .list_projects(
            &scope,
            &ProjectFilter {
                search,
                status,
                only: auth.only_projects(),
            },
            page,
        )
        .await?;
    let mut items = Vec::with_capacity(paged.items.len());
    for project in paged.items {
        items.push(project_view(&state, &mut tx, &scope, project).await?);
    }
    Ok(Json(List {
        items,
        page: page.page,
        per_page: page.per_page,
        total: paged.total,
    }))
}

/// One project with its environments and configuration.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}", tag = "projects",
    params(ProjectPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ProjectView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_project(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
) -> ApiResult<Json<ProjectView>> {
    let mut tx = state.store.read().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    Ok(Json(project_view(&state, &mut tx, &scope, project).await?))
}

/// Deletes a project, its environments and its history; its repository connection is freed.
#[utoipa::path(delete, path = "/tenants/{tenantId}/projects/{projectId}", tag = "projects",
    params(ProjectPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn delete_project(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let (releases, deployments) = tx.leftovers(&scope, &project.id, None).await?;
    let environments: Vec<_> = tx
        .environments(&scope, &project.id)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    tx.delete_project(&scope, &project.id).await?;
    SqliteStore::commit(tx).await?;
    // Its attachments went with it (the store cascades): so do its ways to the databases.
    if let Some(doors) = state.runtime.doors() {
        doors.revoke_project(project.id.as_str());
    }
    // Its routes go before its files do, and its instances stop.
    state.runtime.reconcile(&state.store, &state.secret_box).await;
    remove_leftovers(&state, scope.tenant_id(), &releases, &deployments, &environments).await;
    // Its build disk (workspaces and cache) goes with it.
    let (image, at) = shipyard_build::build::build_disk(
        state.runtime.workspaces(),
        &state.settings.layout.project_mounts(),
        scope.tenant_id().as_str(),
        project.id.as_str(),
    );
    let _ = tokio::task::spawn_blocking(move || shipyard_sandbox::disk::remove(&image, &at)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the files and log streams of deleted releases, deployments and environments. The
/// rows are gone already; a leftover only costs disk (and the hourly sweep removes streams whose
/// owner is gone), so a failure is logged rather than undoing the delete.
pub(super) async fn remove_leftovers(
    state: &AppState,
    tenant: &shipyard_core::TenantId,
    releases: &[ReleaseId],
    deployments: &[DeploymentId],
    environments: &[EnvironmentId],
) {
    use shipyard_store::logs::{access_stream, build_stream, runtime_stream};
    let artifacts = shipyard_build::ArtifactStore::of(state.runtime.workspaces(), tenant.as_str());
    for release in releases {
        if let Err(e) = artifacts.remove(release) {
            tracing::warn!(%release, error = %e, "artifact of a deleted release not removed");
        }
    }
    let streams = releases
        .iter()
        .map(runtime_stream)
        .chain(deployments.iter().map(build_stream))
        .chain(environments.iter().map(|e| access_stream(e.as_str())));
    for stream in streams {
        if let Err(e) = state.logs.delete_stream(&stream).await {
            tracing::warn!(%stream, error = %e, "log of a deleted owner not removed");
        }
    }
    for environment in environments {
        state.runtime.forget_environment(environment.as_str());
    }
}
