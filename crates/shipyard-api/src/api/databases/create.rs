//! Creating a database: checked, stored as `provisioning`, then made in the background.

use super::database_view;
use crate::api::views::display_name;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shipyard_api_types::databases::{CreateDatabaseRequest, DatabaseView};
use shipyard_core::{DatabaseId, OpaqueToken, Role};
use shipyard_store::secrets::database_aad;
use shipyard_store::{Backend, Databases, Deployments, NewDatabase, SqliteStore, TenantScope, Tx};

/// Memory a database gets unless it asks (MiB).
const DEFAULT_MEMORY_MB: u32 = 256;
/// Disk a database gets unless it asks (MiB).
const DEFAULT_DISK_MB: u32 = 1024;

/// A PostgreSQL identifier made from the database's name: lowercase letters, digits and `_`,
/// starting with a letter, at most 40 characters, never one PostgreSQL or the platform keeps.
fn identifier(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    id = id.trim_matches('_').chars().take(40).collect();
    let reserved = [
        "postgres",
        "template0",
        "template1",
        shipyard_databases::conf::SUPERUSER,
        "public",
    ];
    if id.is_empty()
        || !id.starts_with(|c: char| c.is_ascii_lowercase())
        || id.starts_with("pg_")
        || id.starts_with("shipyard")
        || reserved.contains(&id.as_str())
    {
        id = format!("db_{id}");
    }
    id
}

fn within(field: &str, value: Option<u32>, default: u32, range: std::ops::RangeInclusive<u32>) -> ApiResult<u32> {
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_request(format!(
            "field `{field}` must be {} to {}",
            range.start(),
            range.end()
        )))
    }
}

/// Refuses a data disk of `disk_mb` when the workspace's databases' disks would pass its
/// `storageGbLimit`, saying by how much (the kernel holds the rest of the limit).
async fn check_storage(tx: &mut Tx, scope: &TenantScope, disk_mb: u32) -> ApiResult<()> {
    let (_, disks) = tx.database_holdings(scope).await?;
    let limit = tx.storage_gb_limit(scope).await? * 1024;
    let total = disks + i64::from(disk_mb);
    if total > limit {
        return Err(ApiError::unprocessable(format!(
            "this database's disk would take the workspace's databases to {total} MiB of disk, {} MiB over its \
             storageGbLimit of {} GiB",
            total - limit,
            limit / 1024
        )));
    }
    Ok(())
}

/// What a new database is made with.
pub struct NewSpec<'a> {
    /// Its name, checked.
    pub name: String,
    /// The engine asked for.
    pub engine: &'a str,
    /// The major asked for (default: the newest).
    pub version: Option<&'a str>,
    /// Memory, MiB.
    pub memory_mb: u32,
    /// Disk, MiB.
    pub disk_mb: u32,
}

/// Checks a new database against what the host offers and the workspace's limits and stores
/// it as `provisioning` in `tx` (the caller commits, then launches it).
pub async fn store_new(
    state: &AppState,
    tx: &mut Tx,
    scope: &TenantScope,
    spec: NewSpec<'_>,
) -> ApiResult<shipyard_store::Database> {
    let engine = state.databases.engines().choose(spec.engine, spec.version)?.clone();
    state.databases.check_confined()?;
    let (held, cap) = tx.database_count(scope).await?;
    if held >= cap {
        return Err(ApiError::unprocessable(format!(
            "this workspace holds {held} databases, its most ({cap}); delete one first"
        )));
    }
    state.runtime.check_database_memory(tx, scope, spec.memory_mb).await?;
    check_storage(tx, scope, spec.disk_mb).await?;
    let id = DatabaseId::generate();
    let port = shipyard_databases::ports::free_port(&tx.database_ports().await?)?;
    let uid = tx.database_uid(&id, state.databases.uids()).await?;
    let database_name = identifier(&spec.name);
    let seal = |what: &str| {
        let plain = OpaqueToken::generate("").plain;
        state
            .secret_box
            .seal(plain.as_bytes(), &database_aad(scope.tenant_id(), &id, what))
    };
    let new = NewDatabase {
        id: id.clone(),
        name: spec.name,
        engine: shipyard_databases::engine::POSTGRES.to_owned(),
        version: engine.version,
        port,
        uid,
        username: format!("{database_name}_owner"),
        database_name,
        password_sealed: seal("password"),
        superuser_password_sealed: seal("superuser"),
        memory_mb: spec.memory_mb,
        disk_mb: spec.disk_mb,
    };
    Ok(tx.create_database(scope, &new).await?)
}

/// Makes a database: 201 `provisioning` at once, `running` once its server answers (or
/// `failed` with the reason).
#[utoipa::path(post, path = "/tenants/{tenantId}/databases", tag = "databases", request_body = CreateDatabaseRequest,
    params(TenantPath), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = DatabaseView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Name taken in the workspace", body = ErrorBody),
    (status = 422, description = "Engine or version not offered here, the workspace holds its most databases, or it would pass its memory or storage limit", body = ErrorBody),
    (status = 503, body = ErrorBody)))]
pub async fn create_database(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<DatabaseView>)> {
    let mut tx = state.store.write().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: CreateDatabaseRequest = body.parse()?;
    let name = display_name(&req.name, "name")?;
    let limits = req.limits.clone().unwrap_or_default();
    let memory_mb = within("limits.memoryMb", limits.memory_mb, DEFAULT_MEMORY_MB, 64..=65536)?;
    let disk_mb = within("limits.diskMb", limits.disk_mb, DEFAULT_DISK_MB, 64..=1_048_576)?;
    let made = store_new(
        &state,
        &mut tx,
        &scope,
        NewSpec {
            name,
            engine: &req.engine,
            version: req.version.as_deref(),
            memory_mb,
            disk_mb,
        },
    )
    .await?;
    SqliteStore::commit(tx).await?;
    state.databases.launch(made.clone());
    Ok((
        StatusCode::CREATED,
        Json(database_view(
            made,
            super::Around {
                attachments: Vec::new(),
                last_backup: None,
            },
            None,
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::identifier;

    #[test]
    fn identifiers_are_safe_and_never_reserved() {
        assert_eq!(identifier("My Orders DB"), "my_orders_db");
        assert_eq!(identifier("2024 data"), "db_2024_data");
        assert_eq!(identifier("postgres"), "db_postgres");
        assert_eq!(identifier("shipyard"), "db_shipyard");
        assert_eq!(identifier("Shipyard Proof bkp"), "db_shipyard_proof_bkp");
        assert_eq!(identifier("pg_stats"), "db_pg_stats");
        assert_eq!(identifier("日本"), "db_");
        assert_eq!(identifier(&"x".repeat(90)).len(), 40);
    }
}
