//! `GET …/environments/<e>/access-logs`: an environment's requests with a status ≥ 400 or a
//! method other than GET, static and proxied alike, as the edge recorded them; pages of JSON
//! after a `seq`, or followed live over Server-Sent Events.

use crate::api::deployments::logs::{LogQuery, StreamQuery};
use crate::api::log_follow::{Subject, follow};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paths::EnvironmentPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
pub use shipyard_api_types::logs::{AccessItem, AccessPage};
use shipyard_core::EnvironmentId;
use shipyard_store::logs::{LogLine, access_stream};
use shipyard_store::{Backend, TenantScope};

/// The entry a stored line holds (None for a line that is not one): the edge's record, read
/// back as the edge wrote it.
pub fn access_item(line: &LogLine) -> Option<AccessItem> {
    let entry = serde_json::from_str(&line.line).ok()?;
    Some(AccessItem { seq: line.seq, entry })
}

/// The environment's id after checking the caller may read it (404 otherwise).
async fn environment(state: &AppState, auth: &Auth, path: &EnvironmentPath) -> ApiResult<(TenantScope, EnvironmentId)> {
    let mut tx = state.store.read().await?;
    let (scope, _, env) = path.load(auth, &mut tx).await?;
    Ok((scope, env.id))
}

/// An environment's access log.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/access-logs",
    tag = "deployments",
    params(EnvironmentPath, LogQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = AccessPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_access_logs(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<Json<AccessPage>> {
    let (_, env) = environment(&state, &auth, &path).await?;
    let (after, limit) = query.bounds()?;
    let stream = access_stream(env.as_str());
    let truncated_before = state.logs.truncated_before(&stream, after).await?;
    let lines = state.logs.read(&stream, after, limit).await?;
    let last_seq = lines.last().map_or(after, |l| l.seq);
    let items = lines.iter().filter_map(access_item).collect();
    Ok(Json(AccessPage {
        items,
        last_seq,
        truncated_before,
    }))
}

/// An environment's access log live, as Server-Sent Events: a `log` frame per entry (the
/// item's fields, with `id: <seq>`), resuming from `?after=` or `Last-Event-ID`.
#[utoipa::path(get, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/access-logs/stream",
    tag = "deployments",
    params(EnvironmentPath, StreamQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "text/event-stream of JSON frames", content_type = "text/event-stream"),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_access_log_stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let (scope, env) = environment(&state, &auth, &path).await?;
    let after = query.resume_point(&headers)?;
    Ok(follow(state, Subject::Environment(scope, env), after))
}
