//! A deployment's build log: pages of JSON, or a live Server-Sent Events stream that resumes
//! from `?after=` or `Last-Event-ID` with no line lost or repeated.

use crate::api::log_follow::{Subject, follow};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paths::DeploymentPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde::Deserialize;
pub use shipyard_api_types::logs::LogPage;
use shipyard_store::Backend;
use shipyard_store::logs::build_stream;
use utoipa::IntoParams;

/// `?after=&limit=`
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Return lines after this seq (default 0: from the start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Lines at most, 1 to 10000 (default 1000); a page also ends once it holds 1 MiB of text,
    /// and `lastSeq` says where the next begins.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
}

impl LogQuery {
    /// `after` and `limit` with their defaults, or 400 naming the one out of range.
    pub fn bounds(&self) -> ApiResult<(i64, i64)> {
        let after = self.after.unwrap_or(0);
        let limit = self.limit.unwrap_or(1000);
        if after < 0 {
            return Err(ApiError::bad_request("query parameter `after` must be 0 or more"));
        }
        if !(1..=10_000).contains(&limit) {
            return Err(ApiError::bad_request(
                "query parameter `limit` must be between 1 and 10000",
            ));
        }
        Ok((after, limit))
    }
}

/// `?after=` for the stream.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this seq (the `Last-Event-ID` header does the same).
    pub after: Option<i64>,
}

impl StreamQuery {
    /// Where a stream resumes: `?after=`, else `Last-Event-ID`, else the start.
    pub fn resume_point(&self, headers: &HeaderMap) -> ApiResult<i64> {
        let from_header = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        let after = match (self.after, from_header) {
            (Some(after), _) => after,
            (None, Some(id)) => id
                .parse()
                .map_err(|_| ApiError::bad_request(format!("Last-Event-ID `{id}` is not a log sequence number")))?,
            (None, None) => 0,
        };
        if after < 0 {
            return Err(ApiError::bad_request("query parameter `after` must be 0 or more"));
        }
        Ok(after)
    }
}

/// Historical build log lines.
#[utoipa::path(get, path = "/tenants/{tenantId}/deployments/{deploymentId}/logs", tag = "deployments",
    params(DeploymentPath, LogQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = LogPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_deployment_logs(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DeploymentPath>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<Json<LogPage>> {
    let dep = {
        let mut tx = state.store.read().await?;
        path.load(&auth, &mut tx).await?.1
    };
    let (after, limit) = query.bounds()?;
    let stream = build_stream(&dep.id);
    // Its oldest lines go when the workspace's logs pass their bound.
    let truncated_before = state.logs.truncated_before(&stream, after).await?;
    let items = state.logs.read(&stream, after, limit).await?;
    let last_seq = items.last().map_or(after, |l| l.seq);
    // Terminal status is recorded after the last line is flushed, so this is exact.
    let done = dep.status.is_terminal() && last_seq >= state.logs.last_seq(&stream).await?;
    Ok(Json(LogPage {
        items,
        last_seq,
        done,
        truncated_before,
    }))
}

/// Live build log and status as Server-Sent Events: `log` frames (with `id: <seq>`), `status`
/// frames, then `done`. A finished deployment's stream replays and ends.
#[utoipa::path(get, path = "/tenants/{tenantId}/deployments/{deploymentId}/stream", tag = "deployments",
    params(DeploymentPath, StreamQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "text/event-stream of JSON frames", content_type = "text/event-stream"),
    (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_deployment_stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DeploymentPath>,
    ApiQuery(query): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let (scope, dep) = {
        let mut tx = state.store.read().await?;
        path.load(&auth, &mut tx).await?
    };
    let after = query.resume_point(&headers)?;
    Ok(follow(state, Subject::Deployment(scope, dep.id), after))
}
