//! `GET /tenants/<t>/releases/<r>/runtime-logs`: what a server release's instances printed
//! (redacted), and the supervisor's own lines (starts, exits, restarts), in the build log's
//! JSON shape.

use crate::api::deployments::logs::{LogPage, LogQuery};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use shipyard_core::ReleaseId;
use shipyard_store::{Backend, Releases};

/// A release's runtime log lines.
#[utoipa::path(get, path = "/tenants/{tenantId}/releases/{releaseId}/runtime-logs", tag = "deployments",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("releaseId" = String, Path, description = "`rel_…`"), LogQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = LogPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_runtime_logs(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, release_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<Json<LogPage>> {
    let release = {
        let mut tx = state.store.read().await?;
        let scope = auth.tenant(&mut tx, &tenant_id).await?;
        let missing = || ApiError::not_found(format!("release {release_id} not found"));
        let id = ReleaseId::parse(&release_id).map_err(|_| missing())?;
        tx.release(&scope, &id).await?.ok_or_else(missing)?
    };
    let (after, limit) = query.bounds()?;
    let stream = format!("runtime:{}", release.id);
    let items = state.logs.read(&stream, after, limit).await?;
    let last_seq = items.last().map_or(after, |l| l.seq);
    // Done once nothing more can come: the release is not live and none of its instances runs.
    let done = !release.active
        && state.runtime.instances(release.id.as_str()).is_none()
        && last_seq >= state.logs.last_seq(&stream).await?;
    Ok(Json(LogPage { items, last_seq, done }))
}
