//! Starting, stopping and deleting a database.

use super::view_in;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::paths::DatabasePath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shipyard_api_types::databases::DatabaseView;
use shipyard_core::{DatabaseStatus, Role};
use shipyard_store::{Backend, Database, DatabaseState, Databases, SqliteStore, Tx};
use tokio::sync::OwnedMutexGuard;

/// Stores `status` for `database` (cleared error) and returns the stored row.
async fn set_status(tx: &mut Tx, database: &Database, status: DatabaseStatus) -> ApiResult<Database> {
    let state_now = DatabaseState {
        status,
        error: None,
        last_exit_reason: None,
    };
    tx.set_database_state(&database.id, &state_now)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("database {} not found", database.id)))
}

/// Holds the database (no other start, stop or delete of it runs meanwhile) and loads it
/// afresh under the hold, for a write by a member or more.
async fn for_write(state: &AppState, auth: &Auth, path: &DatabasePath) -> ApiResult<(OwnedMutexGuard<()>, Database)> {
    let load = || async {
        let mut tx = state.store.read().await?;
        let (scope, database) = path.load(auth, &mut tx).await?;
        require_write(&scope, Role::Member)?;
        ApiResult::Ok(database)
    };
    let first = load().await?;
    let held = state.databases.hold(&first.id).await;
    Ok((held, load().await?))
}

/// Stores `status` in a transaction of its own; the database's view after.
async fn store_status(
    state: &AppState,
    auth: &Auth,
    path: &DatabasePath,
    database: &Database,
    status: DatabaseStatus,
) -> ApiResult<DatabaseView> {
    let mut tx = state.store.write().await?;
    let (scope, _) = path.load(auth, &mut tx).await?;
    let stored = set_status(&mut tx, database, status).await?;
    let view = view_in(&mut tx, &scope, stored, None).await?;
    SqliteStore::commit(tx).await?;
    Ok(view)
}

/// Starts a stopped (or failed) database with its data.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/start", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 202, description = "Starting", body = DatabaseView), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Still provisioning, or running already", body = ErrorBody),
    (status = 422, description = "It would take the workspace past its memory limit", body = ErrorBody)))]
pub async fn create_database_start(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
) -> ApiResult<(StatusCode, Json<DatabaseView>)> {
    let (_held, database) = for_write(&state, &auth, &path).await?;
    if matches!(database.status, DatabaseStatus::Provisioning | DatabaseStatus::Running) {
        return Err(ApiError::conflict(format!(
            "database {} is {}; only a stopped or failed database can be started",
            database.id,
            database.status.as_str()
        )));
    }
    state.databases.check_confined()?;
    // The check and the change in one write: two starts never both fit in the room of one.
    let mut tx = state.store.write().await?;
    let (scope, _) = path.load(&auth, &mut tx).await?;
    state
        .runtime
        .check_database_memory(&mut tx, &scope, database.memory_mb)
        .await?;
    let stored = set_status(&mut tx, &database, DatabaseStatus::Running).await?;
    let view = view_in(&mut tx, &scope, stored.clone(), None).await?;
    SqliteStore::commit(tx).await?;
    state.databases.launch(stored);
    Ok((StatusCode::ACCEPTED, Json(view)))
}

/// Stops a database: a fast shutdown, its port closed, its data kept.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/stop", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Stopped", body = DatabaseView), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Still provisioning", body = ErrorBody)))]
pub async fn create_database_stop(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
) -> ApiResult<Json<DatabaseView>> {
    let (_held, database) = for_write(&state, &auth, &path).await?;
    if database.status == DatabaseStatus::Provisioning {
        return Err(ApiError::conflict(format!(
            "database {} is still provisioning; stop it once it runs",
            database.id
        )));
    }
    state.databases.stop(&database.id).await;
    let view = store_status(&state, &auth, &path, &database, DatabaseStatus::Stopped).await?;
    Ok(Json(view))
}

/// Deletes a database: its server stops and its files go.
#[utoipa::path(delete, path = "/tenants/{tenantId}/databases/{databaseId}", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn delete_database(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
) -> ApiResult<StatusCode> {
    let (_held, database) = for_write(&state, &auth, &path).await?;
    state.databases.stop(&database.id).await;
    store_status(&state, &auth, &path, &database, DatabaseStatus::Stopped).await?;
    // Files first: a failure leaves the database listed (and stopped), never a row pointing
    // at nothing or files nobody owns.
    state.databases.remove_files(&database).await?;
    let mut tx = state.store.write().await?;
    let (scope, _) = path.load(&auth, &mut tx).await?;
    tx.delete_database(&scope, &database.id).await?;
    SqliteStore::commit(tx).await?;
    state.databases.forget(&database.id);
    if let Some(doors) = state.runtime.doors() {
        doors.revoke_database(database.id.as_str());
    }
    Ok(StatusCode::NO_CONTENT)
}
