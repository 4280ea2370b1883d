//! A database's backups: taken on request (201 `pending`, then proven by a restore in the
//! background), listed, downloaded as the plain `pg_dump -Fc` file, proven again, deleted.

use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery, list_of};
use crate::paths::{BackupPath, DatabasePath};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shipyard_api_types::backups::{BackupVerification, BackupView};
use shipyard_core::{BackupKind, DatabaseStatus, JobStatus, Role};
use shipyard_store::{Backend, Backup, Backups};

/// The API's view of a stored backup.
pub fn backup_view(b: Backup) -> BackupView {
    let verification = match (b.verified_tables, b.verified_rows) {
        (Some(tables), Some(rows)) if b.restore_verified_at.is_some() => Some(BackupVerification { tables, rows }),
        _ => None,
    };
    BackupView {
        id: b.id.to_string(),
        database_id: b.database_id.to_string(),
        kind: b.kind,
        status: b.status,
        size_bytes: b.size_bytes,
        created_at: b.created_at,
        started_at: b.started_at,
        completed_at: b.completed_at,
        error: b.error,
        restore_verified_at: b.restore_verified_at,
        verification,
    }
}

/// The database's backups, newest first.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/backups", tag = "databases",
    params(DatabasePath, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<BackupView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_backups(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<BackupView>>> {
    let mut tx = state.store.read().await?;
    let (scope, database) = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let paged = tx.list_backups(&scope, &database.id, page).await?;
    Ok(Json(list_of(paged, page, backup_view)))
}

/// Takes a backup: 201 `pending` at once; `completed` once dumped and proven by a restore, or
/// `failed` with the reason.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/backups", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = BackupView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "The database is not running, or a backup of it is still being taken", body = ErrorBody)))]
pub async fn create_backup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
) -> ApiResult<(StatusCode, Json<BackupView>)> {
    let mut tx = state.store.read().await?;
    let (scope, database) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    if database.status != DatabaseStatus::Running {
        return Err(shipyard_databases::DatabaseError::NotRunning(database.id.to_string()).into());
    }
    // One at a time per database: the worker serves every workspace, and a queue of one
    // tenant's backups would hold up everyone else's.
    if let Some(busy) = tx.backup_in_flight(&database.id).await? {
        return Err(ApiError::conflict(format!(
            "backup {} of this database is {}; take another once it has ended",
            busy.id,
            busy.status.as_str()
        )));
    }
    drop(tx);
    let made = state
        .databases
        .request_backup(&scope, &database, BackupKind::Manual)
        .await?;
    Ok((StatusCode::CREATED, Json(backup_view(made))))
}

/// One backup.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}", tag = "databases",
    params(BackupPath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = BackupView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_backup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<BackupPath>,
) -> ApiResult<Json<BackupView>> {
    let mut tx = state.store.read().await?;
    let (_, _, backup) = path.load(&auth, &mut tx).await?;
    Ok(Json(backup_view(backup)))
}

/// Deletes a backup that has ended (its file goes with it); one still being taken is 409.
#[utoipa::path(delete, path = "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}", tag = "databases",
    params(BackupPath), security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "Still pending or running, or being restored", body = ErrorBody)))]
pub async fn delete_backup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<BackupPath>,
) -> ApiResult<StatusCode> {
    let mut tx = state.store.read().await?;
    let (scope, _, backup) = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    if matches!(backup.status, JobStatus::Pending | JobStatus::Running) {
        return Err(ApiError::conflict(format!(
            "backup {} is {}; delete it once it has ended",
            backup.id,
            backup.status.as_str()
        )));
    }
    if tx.backup_being_restored(&backup.id).await? {
        return Err(ApiError::conflict(format!(
            "backup {} is being restored; delete it once the restore has ended",
            backup.id
        )));
    }
    drop(tx);
    state.databases.delete_backup(&backup).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The backup as the plain custom-format dump `pg_restore` reads (owners, admins, members).
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/download", tag = "databases",
    params(BackupPath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The dump (pg_dump -Fc)", content_type = "application/octet-stream"),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Not completed, or its file is damaged", body = ErrorBody)))]
pub async fn get_backup_download(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<BackupPath>,
) -> ApiResult<Response> {
    let mut tx = state.store.read().await?;
    let (scope, database, backup) = path.load(&auth, &mut tx).await?;
    drop(tx);
    if !scope.role().at_least(Role::Member) {
        return Err(ApiError::forbidden("viewers cannot download a database's data"));
    }
    let reader = state.databases.open_backup(&backup).await?;
    let id = backup.id.clone();
    let chunks = futures_util::stream::unfold(Some(reader), move |reader| {
        let id = id.clone();
        async move {
            let mut reader = reader?;
            match reader.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(chunk), Some(reader))),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(backup = %id, error = %e, "a backup's download was cut: its file is damaged");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    let file = format!("{}-{}.dump", database.database_name, backup.id);
    let mut response = Body::from_stream(chunks).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(value) = header::HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some(size) = backup.size_bytes {
        headers.insert(header::CONTENT_LENGTH, header::HeaderValue::from(size));
    }
    Ok(response)
}

/// Proves the backup again (a restore into a scratch database, compared with its source as of
/// its dump); answers once done: `completed` with a new `restoreVerifiedAt`, or `failed` with
/// the reason.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/verify", tag = "databases",
    params(BackupPath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = BackupView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Not completed, the database is not running, or another proof is running on this server", body = ErrorBody)))]
pub async fn create_backup_verify(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<BackupPath>,
) -> ApiResult<Json<BackupView>> {
    let mut tx = state.store.read().await?;
    let (scope, _, backup) = path.load(&auth, &mut tx).await?;
    drop(tx);
    require_write(&scope, Role::Member)?;
    let proven = state.databases.verify_backup(&backup).await?;
    Ok(Json(backup_view(proven)))
}
