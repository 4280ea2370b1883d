//! Listing a project's deployments and reading one.

use super::{DeploymentView, deployment_view};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery, filter};
use crate::paths::{DeploymentPath, ProjectPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shipyard_core::{DeploymentStatus, EnvironmentId};
use shipyard_store::{Backend, DeploymentFilter, Deployments};
use utoipa::IntoParams;

/// Filters of the deployment list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DeploymentQuery {
    /// `env_…`
    pub environment_id: Option<String>,
    /// queued, building, deploying, ready, failed or canceled.
    #[param(value_type = Option<shipyard_core::DeploymentStatus>)]
    pub status: Option<String>,
}

/// A project's deployments, newest first.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/deployments", tag = "deployments",
    params(ProjectPath, DeploymentQuery, PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<DeploymentView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_deployments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    ApiQuery(query): ApiQuery<DeploymentQuery>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<DeploymentView>>> {
    let mut tx = state.store.read().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let filter = DeploymentFilter {
        environment_id: filter("environmentId", query.environment_id.as_deref(), |e| {
            EnvironmentId::parse(e).ok()
        })?,
        status: filter("status", query.status.as_deref(), DeploymentStatus::parse)?,
    };
    let paged = tx.list_deployments(&scope, &project.id, &filter, page).await?;
    let mut items = Vec::with_capacity(paged.items.len());
    for dep in paged.items {
        items.push(deployment_view(&mut tx, &scope, dep).await?);
    }
    Ok(Json(List {
        items,
        page: page.page,
        per_page: page.per_page,
        total: paged.total,
    }))
}

/// One deployment: status, error, release and timeline.
#[utoipa::path(get, path = "/tenants/{tenantId}/deployments/{deploymentId}", tag = "deployments",
    params(DeploymentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DeploymentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_deployment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DeploymentPath>,
) -> ApiResult<Json<DeploymentView>> {
    let mut tx = state.store.read().await?;
    let (scope, dep) = path.load(&auth, &mut tx).await?;
    Ok(Json(deployment_view(&mut tx, &scope, dep).await?))
}
