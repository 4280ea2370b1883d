//! `POST /projects/detect`: what a connected repository is, and why we think so.

use crate::api::git_input::{self, git_error, open_auth};
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
pub use shipyard_api_types::projects::{DetectRequest, DetectResponse};
use shipyard_build::{Detection, detect};
use shipyard_core::{ConnectionId, Role};
use shipyard_store::{Backend, Connection, Connections, TenantScope, Tx};

/// The connection a request body names, or 422 naming the field.
pub async fn body_connection(tx: &mut Tx, scope: &TenantScope, raw: &str) -> ApiResult<Connection> {
    let missing = || {
        ApiError::unprocessable(format!(
            "field `repositoryConnectionId`: no repository connection {raw} in this workspace"
        ))
    };
    let id = ConnectionId::parse(raw).map_err(|_| missing())?;
    tx.connection(scope, &id).await?.ok_or_else(missing)
}

/// Fetches `branch` of the connection and detects the app under `root`; `branch_field` names
/// the request field an unknown branch is blamed on.
pub async fn run(
    state: &AppState,
    conn: &Connection,
    branch: &str,
    branch_field: &str,
    root: &str,
) -> ApiResult<(Detection, String)> {
    let auth = open_auth(state, conn)?;
    let snapshot = state
        .repos
        .snapshot(&conn.id, &conn.url, &auth, branch, root)
        .await
        .map_err(|e| {
            let field = match e {
                shipyard_build::GitError::RootNotFound(_) => "rootDirectory",
                _ => branch_field,
            };
            git_error(field, e)
        })?;
    Ok((detect(&snapshot.tree), snapshot.commit_sha))
}

/// Inspects a connected repository (never running its code) and suggests a configuration,
/// with the evidence for each conclusion and a confidence.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects/detect", tag = "projects", request_body = DetectRequest,
    params(TenantPath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DetectResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 422, description = "Unknown connection, branch or directory, or an unreadable repository", body = ErrorBody)))]
pub async fn create_detection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<Json<DetectResponse>> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: DetectRequest = body.parse()?;
    let branch = req
        .branch
        .as_deref()
        .map(|b| git_input::branch("branch", b))
        .transpose()?;
    let root = super::validate::directory("rootDirectory", req.root_directory.as_deref().unwrap_or_default())?;
    let conn = body_connection(&mut tx, &scope, &req.repository_connection_id).await?;
    drop(tx);
    let branch = branch.unwrap_or_else(|| conn.default_branch.clone());
    let (detection, commit_sha) = run(&state, &conn, &branch, "branch", &root).await?;
    Ok(Json(DetectResponse {
        detection,
        branch,
        commit_sha,
    }))
}
