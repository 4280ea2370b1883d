//! `POST /tenants/<t>/rollback`: a new release of an environment made from an older one's
//! artifact, config snapshot and pinned secret versions, live when the answer comes. No
//! build, no deployment, no quota (the work itself is `shipyard_runtime::rollback`).

use crate::api::releases::ReleaseView;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::deployments::RollbackRequest;
use shipyard_core::{ReleaseId, Role};
use shipyard_runtime::admission::Admission;
use shipyard_runtime::rollback::{Rollback, RollbackError, check_target};
use shipyard_store::{Backend, Projects, Release, Releases};

/// Rolls an environment back to one of its earlier releases.
#[utoipa::path(post, path = "/tenants/{tenantId}/rollback", tag = "deployments", request_body = RollbackRequest,
    params(TenantPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "The new release, live", body = ReleaseView), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Already active, pruned, or the project is paused or archived", body = ErrorBody),
    (status = 422, description = "No such release in this workspace, or over the workspace's memory limit", body = ErrorBody),
    (status = 503, description = "The server is stopping", body = ErrorBody)))]
pub async fn create_rollback(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<ReleaseView>)> {
    // The contract's order: the path (404), the role (403), the body (400), references (422).
    let (target, reason) = {
        let mut tx = state.store.read().await?;
        let scope = path.load(&auth, &mut tx).await?;
        require_write(&scope, Role::Member)?;
        let req: RollbackRequest = body.parse()?;
        let reason = req.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            return Err(ApiError::bad_request("field `reason` must be at most 500 characters"));
        }
        let target = find_target(&mut tx, &scope, &req.release_id).await?;
        auth.reach(&target.project_id, String::new).map_err(|_| {
            ApiError::unprocessable(format!(
                "field `releaseId`: release {} does not exist in this workspace",
                req.release_id
            ))
        })?;
        check_target(&mut tx, &scope, &target).await.map_err(rollback_error)?;
        let project = tx
            .project(&scope, &target.project_id)
            .await?
            .ok_or_else(|| ApiError::unprocessable("field `releaseId`: its project no longer exists"))?;
        let what = (&project, &target.environment_id);
        state
            .runtime
            .admit(&mut tx, &scope, what, &target.config.runtime, Admission::Rollback)
            .await?;
        (target, reason)
    };
    // Run to the end even if the client goes away: a half-done rollback would leave files no
    // release owns.
    let tasks = state.runtime.tasks().clone();
    let task = tasks.try_spawn("rollback", async move {
        let mut tx = state.store.read().await?;
        let scope = path.load(&auth, &mut tx).await?;
        drop(tx);
        let rollback = Rollback {
            target: &target,
            reason,
            retention: state.settings.release_retention,
            replacing: None,
        };
        state
            .runtime
            .roll_back(&state.store, &state.secret_box, &scope, rollback)
            .await
            .map_err(rollback_error)
    });
    let task = task.ok_or_else(|| ApiError::unavailable("the server is stopping; roll back again once it is back"))?;
    let release = task.await.map_err(|e| ApiError::internal(&e))??;
    Ok((StatusCode::CREATED, Json(crate::api::releases::release_view(release))))
}

/// The contract's answer to a rollback that did not happen.
fn rollback_error(e: RollbackError) -> ApiError {
    match e {
        RollbackError::Refused(why) => ApiError::conflict(why),
        RollbackError::Unusable(why) => ApiError::unprocessable(why),
        RollbackError::Store(e) => e.into(),
        other => ApiError::internal(&other),
    }
}

/// The release `raw` names in this workspace, or 422 naming the field.
async fn find_target(
    tx: &mut shipyard_store::Tx,
    scope: &shipyard_store::TenantScope,
    raw: &str,
) -> ApiResult<Release> {
    let missing = || {
        ApiError::unprocessable(format!(
            "field `releaseId`: release {raw} does not exist in this workspace"
        ))
    };
    let id = ReleaseId::parse(raw).map_err(|_| missing())?;
    tx.release(scope, &id).await?.ok_or_else(missing)
}
