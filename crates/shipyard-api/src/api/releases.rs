//! Release history: what ran, built from which commit with which secret versions, and whether
//! its files are still kept (a rollback target).

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery, filter, list_of};
use crate::paths::ProjectPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shipyard_api_types::deployments::ReleaseAttachment;
pub use shipyard_api_types::deployments::ReleaseView;
use shipyard_core::EnvironmentId;
use shipyard_store::{Backend, Release, Releases};
use utoipa::IntoParams;

/// The API's view of a stored release.
pub fn release_view(r: Release) -> ReleaseView {
    let pre_deploy = r
        .config
        .runtime
        .pre_deploy_command
        .as_ref()
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            if r.rollback_of.is_some() {
                format!("`{c}` was not run: a rollback returns to a release whose pre-deploy command ran before")
            } else {
                format!("`{c}` ran before it went live")
            }
        });
    ReleaseView {
        id: r.id.to_string(),
        version: format!("v{}", r.version),
        project_id: r.project_id.to_string(),
        environment_id: r.environment_id.to_string(),
        deployment_id: r.deployment_id.map(|d| d.to_string()),
        commit_sha: r.commit_sha,
        status: if r.active { "active" } else { "inactive" }.to_owned(),
        rollback_of: r.rollback_of.map(|id| id.to_string()),
        secret_versions: serde_json::to_value(&r.config.secret_versions).unwrap_or_else(|_| serde_json::json!([])),
        attachments: attachment_views(&r.config.attachments),
        dropped_attachments: attachment_views(&r.config.dropped_attachments),
        pre_deploy,
        artifact_available: r.artifact_available,
        created_at: r.created_at,
        activated_at: r.activated_at,
    }
}

fn attachment_views(pins: &[shipyard_core::PinnedAttachment]) -> Vec<ReleaseAttachment> {
    pins.iter()
        .map(|p| ReleaseAttachment {
            database_id: p.database_id.clone(),
            env_var: p.env_var.clone(),
        })
        .collect()
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
    Ok(Json(list_of(paged, page, release_view)))
}
