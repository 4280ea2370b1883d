//! `GET /tenants/<t>/releases/<r>/runtime-logs`: what a server release's instances printed
//! (redacted), and the supervisor's own lines (starts, exits, restarts), in the build log's
//! JSON shape, or followed live over Server-Sent Events.

use crate::api::deployments::logs::{LogPage, LogQuery, StreamQuery};
use crate::api::log_follow::{Subject, follow};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use shipyard_core::ReleaseId;
use shipyard_store::logs::runtime_stream;
use shipyard_store::{Backend, Release, Releases, TenantScope, Tx};

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
    let (_, release) = {
        let mut tx = state.store.read().await?;
        find_release(&mut tx, &auth, &tenant_id, &release_id).await?
    };
    let (after, limit) = query.bounds()?;
    let stream = runtime_stream(&release.id);
    let truncated_before = state.logs.truncated_before(&stream, after).await?;
    let items = state.logs.read(&stream, after, limit).await?;
    let last_seq = items.last().map_or(after, |l| l.seq);
    // Done once nothing more can come: the release is not live and none of its instances runs.
    let done =
        !release.active && !state.runtime.runs(release.id.as_str()) && last_seq >= state.logs.last_seq(&stream).await?;
    Ok(Json(LogPage {
        items,
        last_seq,
        done,
        truncated_before,
    }))
}

/// The release `raw` names in the caller's workspace `tenant_id`, or 404.
async fn find_release(tx: &mut Tx, auth: &Auth, tenant_id: &str, raw: &str) -> ApiResult<(TenantScope, Release)> {
    let scope = auth.tenant(tx, tenant_id).await?;
    let missing = || ApiError::not_found(format!("release {raw} not found"));
    let id = ReleaseId::parse(raw).map_err(|_| missing())?;
    let release = tx.release(&scope, &id).await?.ok_or_else(missing)?;
    auth.reach(&release.project_id, || format!("release {raw}"))?;
    Ok((scope, release))
}

/// A release's runtime log live, as Server-Sent Events: `log` frames (with `id: <seq>`), then
/// `done` once the release is inactive and its instances have stopped.
#[utoipa::path(get, path = "/tenants/{tenantId}/releases/{releaseId}/runtime-logs/stream", tag = "deployments",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("releaseId" = String, Path, description = "`rel_…`"), StreamQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "text/event-stream of JSON frames", content_type = "text/event-stream"),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_runtime_log_stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, release_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let (scope, release) = {
        let mut tx = state.store.read().await?;
        find_release(&mut tx, &auth, &tenant_id, &release_id).await?
    };
    let after = query.resume_point(&headers)?;
    Ok(follow(state, Subject::Release(scope, release.id), after))
}
