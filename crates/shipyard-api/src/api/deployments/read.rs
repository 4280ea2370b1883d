//! Listing a project's deployments and reading one.

use super::{DeploymentView, deployment_view, find_deployment};
use crate::api::projects::find_project;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery, filter};
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
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

/// A project's deployments, newest first.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/deployments", tag = "deployments",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("projectId" = String, Path, description = "`prj_…`"), DeploymentQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<DeploymentView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_deployments(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, project_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<DeploymentQuery>,
) -> ApiResult<Json<List<DeploymentView>>> {
    let mut tx = state.store.read().await?;
    let scope = auth.tenant(&mut tx, &tenant_id).await?;
    let project = find_project(&mut tx, &scope, &project_id).await?;
    let page = PageQuery {
        page: query.page,
        per_page: query.per_page,
    }
    .page()?;
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
    params(("tenantId" = String, Path, description = "`ten_…`"), ("deploymentId" = String, Path, description = "`dep_…` or `DEP-0001`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DeploymentView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_deployment(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, deployment_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<DeploymentView>> {
    let mut tx = state.store.read().await?;
    let scope = auth.tenant(&mut tx, &tenant_id).await?;
    let dep = find_deployment(&mut tx, &scope, &deployment_id).await?;
    Ok(Json(deployment_view(&mut tx, &scope, dep).await?))
}
