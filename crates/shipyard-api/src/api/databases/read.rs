//! Reading databases, and the connection details of one.

use super::{around, database_view};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery};
use crate::paging::{List, PageQuery};
use crate::paths::{DatabasePath, TenantPath};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use shipyard_api_types::Secret;
use shipyard_api_types::databases::{DatabaseConnection, DatabaseView};
use shipyard_core::{DATABASE_HOST, database_url};
use shipyard_core::{DatabaseStatus, Role};
use shipyard_store::{Backend, Database, Databases};

/// The database's size while it runs (read from the server; nothing when it does not answer).
async fn size_of(state: &AppState, d: &Database) -> Option<i64> {
    if d.status != DatabaseStatus::Running {
        return None;
    }
    state.databases.size_bytes(d).await
}

/// The workspace's databases, oldest first.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases", tag = "databases",
    params(TenantPath, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<DatabaseView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_databases(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<DatabaseView>>> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let paged = tx.list_databases(&scope, page).await?;
    let mut listed = Vec::with_capacity(paged.items.len());
    let mut hidden = 0;
    for d in paged.items {
        let around = around(&mut tx, &scope, &d).await?;
        // A token limited to some projects lists only the databases it reaches (a workspace
        // holds a handful, `maxDatabases`, so the page is the list).
        if auth.sees_database(&around.attachments) {
            listed.push((d, around));
        } else {
            hidden += 1;
        }
    }
    drop(tx);
    let mut items = Vec::with_capacity(listed.len());
    for (d, around) in listed {
        let size = size_of(&state, &d).await;
        items.push(database_view(d, around, size));
    }
    Ok(Json(List {
        items,
        page: page.page,
        per_page: page.per_page,
        total: paged.total - hidden,
    }))
}

/// One database.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DatabaseView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_database(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
) -> ApiResult<Json<DatabaseView>> {
    let mut tx = state.store.read().await?;
    let (scope, database) = path.load(&auth, &mut tx).await?;
    let around = around(&mut tx, &scope, &database).await?;
    drop(tx);
    let size = size_of(&state, &database).await;
    Ok(Json(database_view(database, around, size)))
}

/// How to connect, password included: for psql and migrations on the server's host (owners,
/// admins and members; viewers get 403).
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/connection", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DatabaseConnection), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn get_database_connection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
) -> ApiResult<Json<DatabaseConnection>> {
    let mut tx = state.store.read().await?;
    let (scope, database) = path.load(&auth, &mut tx).await?;
    drop(tx);
    if !scope.role().at_least(Role::Member) {
        return Err(crate::error::ApiError::forbidden(
            "viewers cannot read a database's password",
        ));
    }
    let password = state.databases.password(&database)?;
    let url = database_url(&database.username, &password, database.port, &database.database_name);
    Ok(Json(DatabaseConnection {
        url: Secret::new(url),
        host: DATABASE_HOST.to_owned(),
        port: database.port,
        database_name: database.database_name,
        username: database.username,
        password: Secret::new(password),
    }))
}
