//! Rotating a database's password: the new one works at once, the old one for a grace period
//! (default 5 minutes); attached environments get the new URL at their next deployment, or at
//! once with `?redeploy=true`.

use super::attach::{RedeployQuery, redeploy, target};
use super::view_in;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paths::DatabasePath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use shipyard_api_types::databases::{PasswordRotation, RotatePasswordRequest};
use shipyard_core::Role;
use shipyard_store::{Attachments, Backend, Databases, Rotation, SqliteStore};

/// The grace period unless the request names one.
const DEFAULT_GRACE_SECONDS: u32 = 300;
/// The longest grace period: a week.
const MAX_GRACE_SECONDS: u32 = 7 * 24 * 60 * 60;

/// Sets a new password for the database's login; the old one works until `previousValidUntil`.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/rotate-password", tag = "databases",
    request_body = RotatePasswordRequest, params(DatabasePath, RedeployQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = PasswordRotation), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The database is not running", body = ErrorBody),
    (status = 429, description = "Redeploy: daily deploy quota used up", body = ErrorBody)))]
pub async fn create_database_rotate_password(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
    ApiQuery(query): ApiQuery<RedeployQuery>,
    body: JsonBody,
) -> ApiResult<Json<PasswordRotation>> {
    let req: RotatePasswordRequest = if body.is_empty() {
        RotatePasswordRequest::default()
    } else {
        body.parse()?
    };
    let grace = req.grace_seconds.unwrap_or(DEFAULT_GRACE_SECONDS);
    if grace > MAX_GRACE_SECONDS {
        return Err(ApiError::bad_request(format!(
            "field `graceSeconds` must be 0 to {MAX_GRACE_SECONDS} (a week)"
        )));
    }
    let load = || async {
        let mut tx = state.store.read().await?;
        let (scope, database) = path.load(&auth, &mut tx).await?;
        require_write(&scope, Role::Member)?;
        ApiResult::Ok(database)
    };
    let first = load().await?;
    // One rotation (or start, stop, delete) of a database at a time.
    let _held = state.databases.hold(&first.id).await;
    let database = load().await?;
    let until = chrono::Utc::now() + chrono::Duration::seconds(i64::from(grace));
    let rotated = state
        .databases
        .rotate_password(&database, &state.secret_box, until)
        .await?;

    let mut tx = state.store.write().await?;
    let (scope, _) = path.load(&auth, &mut tx).await?;
    let rotation = Rotation {
        username: rotated.username,
        password_sealed: rotated.password_sealed,
        previous_username: database.username.clone(),
        previous_valid_until: rotated.previous_valid_until,
    };
    let stored = tx
        .rotate_login(&scope, &database.id, &rotation)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("database {} not found", database.id)))?;
    let mut deployments = Vec::new();
    if query.redeploy.unwrap_or(false) {
        let note = format!("database {}'s password rotated", database.name);
        for attachment in tx.database_attachments(&scope, &database.id).await? {
            let environment = attachment.environment_id.as_ref().map(ToString::to_string);
            let (project, _, covered) = target(
                &mut tx,
                &scope,
                &auth,
                attachment.project_id.as_str(),
                environment.as_deref(),
            )
            .await?;
            deployments.extend(redeploy(&state, &mut tx, &scope, &project, &covered, &note).await?);
        }
    }
    let view = view_in(&mut tx, &scope, stored, None).await?;
    SqliteStore::commit(tx).await?;
    if !deployments.is_empty() {
        state.jobs_queued.notify_one();
    }
    let takes_effect = if deployments.is_empty() {
        "attached environments get the new URL with their next deployment (or ask again with ?redeploy=true); \
         the old password works until previousValidUntil"
            .to_owned()
    } else {
        "attached environments get the new URL with the deployments queued now; the old password works until \
         previousValidUntil"
            .to_owned()
    };
    Ok(Json(PasswordRotation {
        database: view,
        previous_valid_until: rotation.previous_valid_until,
        takes_effect,
        deployments,
    }))
}
