//! Restores of a database's backups: into a new database (the default; the source untouched)
//! or into the same one (after a backup of what it holds now). Each is a job: 202 at once,
//! then `completed` or `failed` with the reason.

use super::create::{NewSpec, store_new};
use crate::api::views::display_name;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery, list_of};
use crate::paths::{BackupPath, DatabasePath, RestorePath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shipyard_api_types::backups::{CreateRestoreRequest, RestoreView};
use shipyard_core::{DatabaseStatus, JobStatus, RestoreId, RestoreTarget, Role};
use shipyard_store::{Backend, Backups, NewRestore, Restore, SqliteStore};

/// The API's view of a stored restore.
pub fn restore_view(r: Restore) -> RestoreView {
    RestoreView {
        id: r.id.to_string(),
        backup_id: r.backup_id.to_string(),
        target: r.target,
        target_database_id: r.target_database_id.map(|d| d.to_string()),
        before_backup_id: r.before_backup_id.map(|b| b.to_string()),
        status: r.status,
        error: r.error,
        created_at: r.created_at,
        started_at: r.started_at,
        completed_at: r.completed_at,
    }
}

/// Restores a completed backup: `target: "new"` (default) makes a database from it with the
/// source's version and limits and leaves the source untouched; `"same"` first backs up what
/// the database holds now (named by `beforeBackupId`), then restores over it in one transaction.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/restore", tag = "databases",
    request_body = CreateRestoreRequest, params(BackupPath), security(("bearer" = []), ("session" = [])),
    responses((status = 202, body = RestoreView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The backup is not completed, the database is not running (same), or the name is taken", body = ErrorBody),
    (status = 422, description = "A new database would pass the workspace's limits", body = ErrorBody)))]
pub async fn create_backup_restore(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<BackupPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<RestoreView>)> {
    let req: CreateRestoreRequest = if body.is_empty() {
        CreateRestoreRequest::default()
    } else {
        body.parse()?
    };
    let mut tx = state.store.write().await?;
    let (scope, database, backup) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    if backup.status != JobStatus::Completed {
        return Err(shipyard_databases::DatabaseError::BackupNotCompleted {
            id: backup.id.to_string(),
            status: backup.status.as_str(),
            what: "restored",
        }
        .into());
    }
    let id = RestoreId::generate();
    let target = req.target.unwrap_or(RestoreTarget::New);
    let made = match target {
        RestoreTarget::New => {
            // A new database belongs to the whole workspace, as `POST …/databases` does.
            if auth.only_projects().is_some() {
                return Err(ApiError::forbidden(
                    "this token is limited to some projects; a restore into a new database changes the whole workspace",
                ));
            }
            let name = match &req.name {
                Some(name) => display_name(name, "name")?,
                None => {
                    let base: String = database.name.chars().take(80).collect();
                    let id_text = id.to_string();
                    format!("{base}-restored-{}", &id_text[id_text.len().saturating_sub(6)..])
                }
            };
            let spec = NewSpec {
                name,
                engine: &database.engine,
                version: Some(&database.version),
                memory_mb: database.memory_mb,
                disk_mb: database.disk_mb,
            };
            Some(store_new(&state, &mut tx, &scope, spec).await?)
        }
        RestoreTarget::Same => {
            if req.name.is_some() {
                return Err(ApiError::bad_request(
                    "field `name` names a new database: it applies to target `new` only",
                ));
            }
            if database.status != DatabaseStatus::Running {
                return Err(shipyard_databases::DatabaseError::NotRunning(database.id.to_string()).into());
            }
            None
        }
    };
    let new = NewRestore {
        id,
        backup_id: backup.id.clone(),
        database_id: database.id.clone(),
        target,
        target_database_id: Some(made.as_ref().map_or(database.id.clone(), |d| d.id.clone())),
    };
    let restore = tx.create_restore(&scope, &new).await?;
    SqliteStore::commit(tx).await?;
    if let Some(made) = made {
        state.databases.launch(made);
    }
    state.databases.wake_backups();
    Ok((StatusCode::ACCEPTED, Json(restore_view(restore))))
}

/// The database's restores, newest first.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/restores", tag = "databases",
    params(DatabasePath, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<RestoreView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_restores(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<RestoreView>>> {
    let mut tx = state.store.read().await?;
    let (scope, database) = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let paged = tx.list_restores(&scope, &database.id, page).await?;
    Ok(Json(list_of(paged, page, restore_view)))
}

/// One restore.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/restores/{restoreId}", tag = "databases",
    params(RestorePath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RestoreView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_restore(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<RestorePath>,
) -> ApiResult<Json<RestoreView>> {
    let mut tx = state.store.read().await?;
    let database = DatabasePath {
        tenant_id: path.tenant_id.clone(),
        database_id: path.database_id.clone(),
    };
    let (scope, database) = database.load(&auth, &mut tx).await?;
    let not_found = || ApiError::not_found(format!("restore {} not found", path.restore_id));
    let id = RestoreId::parse(&path.restore_id).map_err(|_| not_found())?;
    let restore = tx.restore(&scope, &database.id, &id).await?.ok_or_else(not_found)?;
    Ok(Json(restore_view(restore)))
}
