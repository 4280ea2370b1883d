//! Release history: what ran, built from which commit with which secret versions, and whether
//! its files are still kept (a rollback target).

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery, filter};
use crate::paths::ProjectPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::EnvironmentId;
use shipyard_store::{Backend, Release, Releases};
use utoipa::{IntoParams, ToSchema};

/// A release as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseView {
    /// `rel_…`
    pub id: String,
    /// `v1`, `v2`… per environment.
    pub version: String,
    /// The project.
    pub project_id: String,
    /// The environment.
    pub environment_id: String,
    /// The deployment that built it (null for rollbacks).
    pub deployment_id: Option<String>,
    /// Commit built.
    pub commit_sha: String,
    /// `active` or `inactive`.
    pub status: String,
    /// The release this one rolled back to.
    pub rollback_of: Option<String>,
    /// Secrets and the versions it runs with.
    #[schema(value_type = Vec<Object>)]
    pub secret_versions: serde_json::Value,
    /// False once retention removed its files: it can no longer be rolled back to.
    pub artifact_available: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last went live.
    pub activated_at: Option<DateTime<Utc>>,
}

impl From<Release> for ReleaseView {
    fn from(r: Release) -> Self {
        Self {
            id: r.id.to_string(),
            version: format!("v{}", r.version),
            project_id: r.project_id.to_string(),
            environment_id: r.environment_id.to_string(),
            deployment_id: r.deployment_id.map(|d| d.to_string()),
            commit_sha: r.commit_sha,
            status: if r.active { "active" } else { "inactive" }.to_owned(),
            rollback_of: r.rollback_of.map(|id| id.to_string()),
            secret_versions: serde_json::to_value(&r.config.secret_versions).unwrap_or_else(|_| serde_json::json!([])),
            artifact_available: r.artifact_available,
            created_at: r.created_at,
            activated_at: r.activated_at,
        }
    }
}

/// `?environmentId=&page=&perPage=`
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ReleaseQuery {
    /// `env_…`
    pub environment_id: Option<String>,
}

/// A project's releases, newest first: the rollback targets.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/releases", tag = "deployments",
    params(ProjectPath, ReleaseQuery, PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<ReleaseView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_releases(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<ProjectPath>,
    ApiQuery(query): ApiQuery<ReleaseQuery>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<ReleaseView>>> {
    let mut tx = state.store.read().await?;
    let (scope, project) = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let env = filter("environmentId", query.environment_id.as_deref(), |e| {
        EnvironmentId::parse(e).ok()
    })?;
    let paged = tx.list_releases(&scope, &project.id, env.as_ref(), page).await?;
    Ok(Json(List::from_page(paged, page, ReleaseView::from)))
}
