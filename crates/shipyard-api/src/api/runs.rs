//! One-off commands (`shipyard run`): started in a sandbox of an environment's active release
//! (its secrets, databases and limits, a fresh HOME), their output followed as a log stream,
//! their exit code read once they end.

use super::log_follow::{Subject, follow};
use crate::api::projects::validate;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::{EnvironmentPath, RunPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use shipyard_api_types::runs::{CreateRunRequest, RunView};
use shipyard_core::{Role, RuntimeType};
use shipyard_runtime::CommandEnd;
use shipyard_runtime::runs::Run;
use shipyard_store::{Backend, Releases, SqliteStore};

/// The API's view of a run.
pub fn run_view(run: Run) -> RunView {
    let (status, exit_code, error) = match (&run.end, &run.error) {
        (_, Some(error)) => ("failed", None, Some(error.clone())),
        (Some(CommandEnd::Exited(code)), _) => ("exited", Some(*code), None),
        (Some(CommandEnd::Killed(why)), _) => ("killed", None, Some(why.clone())),
        (None, None) => ("running", None, None),
    };
    RunView {
        id: run.id.to_string(),
        environment_id: run.environment.to_string(),
        release_id: run.release,
        command: run.command,
        status: status.to_owned(),
        exit_code,
        error,
        started_at: run.started_at,
        finished_at: run.finished_at,
    }
}

/// Runs a command once in a sandbox of the environment's active release; follow its output
/// at `…/runs/<id>/logs/stream`.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/runs",
    tag = "deployments", request_body = CreateRunRequest, params(EnvironmentPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = RunView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The project is paused or archived, or has no active release", body = ErrorBody),
    (status = 422, description = "A static site, or a release that cannot run", body = ErrorBody),
    (status = 429, description = "The workspace runs its most one-off commands already", body = ErrorBody)))]
pub async fn create_run(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<EnvironmentPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<RunView>)> {
    let mut tx = state.store.write().await?;
    let (scope, project, env) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: CreateRunRequest = body.parse()?;
    let command = validate::command("command", req.command)?;
    // A paused or archived project runs nothing, one-off commands included.
    if let Some(why) = project.refuses("run commands") {
        return Err(ApiError::conflict(why));
    }
    let release = tx.active_release(&scope, &env.id).await?.ok_or_else(|| {
        ApiError::conflict(format!(
            "environment {} has no active release; deploy it first",
            env.slug
        ))
    })?;
    if release.config.runtime.runtime_type == RuntimeType::Static {
        return Err(ApiError::unprocessable(
            "this environment serves a static site, which runs no commands",
        ));
    }
    let spec = state
        .runtime
        .startable(
            &mut tx,
            &state.secret_box,
            &scope,
            (&project.id, &env.id),
            (&release.id, &release.id),
            &release.config,
        )
        .await
        .map_err(ApiError::unprocessable)?
        .ok_or_else(|| ApiError::unprocessable("this release runs no commands"))?;
    SqliteStore::commit(tx).await?;
    let run = state
        .runtime
        .start_run(spec, command)
        .map_err(|why| ApiError::too_many_requests(why, 5))?;
    Ok((StatusCode::CREATED, Json(run_view(run))))
}

/// A one-off command: running, or how it ended (remembered for the server's last 200).
#[utoipa::path(get, path = "/tenants/{tenantId}/runs/{runId}", tag = "deployments", params(RunPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RunView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<RunPath>,
) -> ApiResult<Json<RunView>> {
    let mut tx = state.store.read().await?;
    let (_, run) = path.load(&auth, &mut tx, &state).await?;
    Ok(Json(run_view(run)))
}

/// A one-off command's output as Server-Sent Events: `log` frames, then `done` once it ended.
#[utoipa::path(get, path = "/tenants/{tenantId}/runs/{runId}/logs/stream", tag = "deployments", params(RunPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "An event stream", content_type = "text/event-stream"),
    (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run_stream(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<RunPath>,
) -> ApiResult<impl IntoResponse> {
    let mut tx = state.store.read().await?;
    let (scope, run) = path.load(&auth, &mut tx, &state).await?;
    drop(tx);
    Ok(follow(state, Subject::Run(scope, run.id), 0))
}
