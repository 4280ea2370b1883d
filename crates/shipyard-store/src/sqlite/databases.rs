//! `Databases` for SQLite.

use super::Tx;
use super::rows::{convert, parse_ts, ts};
use crate::model::{Database, DatabaseState, NewDatabase, Page, Paged, Rotation};
use crate::scope::TenantScope;
use crate::traits::Databases;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{DatabaseId, DatabaseStatus, TenantId};

macro_rules! database_columns {
    () => {
        "id, tenant_id, name, engine, version, status, port, uid, database_name, username, \
         password_sealed, superuser_password_sealed, memory_mb, disk_mb, error, last_exit_reason, \
         created_at, updated_at, COALESCE(owner_role, username) AS owner_role, previous_username, \
         previous_valid_until"
    };
}

#[derive(sqlx::FromRow)]
struct DatabaseRow {
    id: String,
    tenant_id: String,
    name: String,
    engine: String,
    version: String,
    status: String,
    port: i64,
    uid: i64,
    database_name: String,
    username: String,
    password_sealed: Vec<u8>,
    superuser_password_sealed: Vec<u8>,
    memory_mb: i64,
    disk_mb: i64,
    error: Option<String>,
    last_exit_reason: Option<String>,
    created_at: String,
    updated_at: String,
    owner_role: String,
    previous_username: Option<String>,
    previous_valid_until: Option<String>,
}

impl TryFrom<DatabaseRow> for Database {
    type Error = StoreError;
    fn try_from(r: DatabaseRow) -> Result<Self> {
        let number = |what: &str, n: i64| StoreError::Corrupt(format!("database {} {what} {n}", r.id));
        Ok(Database {
            status: DatabaseStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("database status `{}`", r.status)))?,
            port: u16::try_from(r.port).map_err(|_| number("port", r.port))?,
            uid: u32::try_from(r.uid).map_err(|_| number("uid", r.uid))?,
            memory_mb: u32::try_from(r.memory_mb).map_err(|_| number("memory", r.memory_mb))?,
            disk_mb: u32::try_from(r.disk_mb).map_err(|_| number("disk", r.disk_mb))?,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
            previous_valid_until: r.previous_valid_until.as_deref().map(parse_ts).transpose()?,
            owner_role: r.owner_role,
            previous_username: r.previous_username,
            id: DatabaseId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            name: r.name,
            engine: r.engine,
            version: r.version,
            database_name: r.database_name,
            username: r.username,
            password_sealed: r.password_sealed,
            superuser_password_sealed: r.superuser_password_sealed,
            error: r.error,
            last_exit_reason: r.last_exit_reason,
        })
    }
}

impl Databases for Tx {
    async fn create_database(&mut self, scope: &TenantScope, new: &NewDatabase) -> Result<Database> {
        let now = ts(Utc::now());
        let row: DatabaseRow = sqlx::query_as(concat!(
            "INSERT INTO databases (id, tenant_id, name, engine, version, status, port, uid, database_name, \
             username, password_sealed, superuser_password_sealed, memory_mb, disk_mb, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, 'provisioning', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            database_columns!()
        ))
        .bind(new.id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.name.clone())
        .bind(new.engine.clone())
        .bind(new.version.clone())
        .bind(i64::from(new.port))
        .bind(i64::from(new.uid))
        .bind(new.database_name.clone())
        .bind(new.username.clone())
        .bind(new.password_sealed.clone())
        .bind(new.superuser_password_sealed.clone())
        .bind(i64::from(new.memory_mb))
        .bind(i64::from(new.disk_mb))
        .bind(now.clone())
        .bind(now)
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Database::try_from(row)
    }

    async fn list_databases(&mut self, scope: &TenantScope, page: Page) -> Result<Paged<Database>> {
        let tenant = scope.tenant_id().as_str().to_owned();
        let rows: Vec<DatabaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            database_columns!(),
            " FROM databases WHERE tenant_id = ? ORDER BY id LIMIT ? OFFSET ?"
        ))
        .bind(tenant.clone())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM databases WHERE tenant_id = ?")
            .bind(tenant)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn database(&mut self, scope: &TenantScope, id: &DatabaseId) -> Result<Option<Database>> {
        let row: Option<DatabaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            database_columns!(),
            " FROM databases WHERE tenant_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Database::try_from).transpose()
    }

    async fn database_count(&mut self, scope: &TenantScope) -> Result<(i64, i64)> {
        let tenant = scope.tenant_id().as_str().to_owned();
        let held = sqlx::query_scalar("SELECT COUNT(*) FROM databases WHERE tenant_id = ?")
            .bind(tenant.clone())
            .fetch_one(&mut *self.0)
            .await?;
        let cap = sqlx::query_scalar("SELECT max_databases FROM tenants WHERE id = ?")
            .bind(tenant)
            .fetch_one(&mut *self.0)
            .await?;
        Ok((held, cap))
    }

    async fn database_holdings(&mut self, scope: &TenantScope) -> Result<(i64, i64)> {
        let (memory, disk): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT SUM(CASE WHEN status IN ('provisioning', 'running') THEN memory_mb ELSE 0 END), SUM(disk_mb) \
             FROM databases WHERE tenant_id = ?",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .fetch_one(&mut *self.0)
        .await?;
        Ok((memory.unwrap_or(0), disk.unwrap_or(0)))
    }

    async fn delete_database(&mut self, scope: &TenantScope, id: &DatabaseId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM databases WHERE tenant_id = ? AND id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // Its files and processes are gone (the caller removed them first): the uid owns
        // nothing on this host any more and may be handed out again.
        sqlx::query("DELETE FROM sandbox_uids WHERE project_id = ?")
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(true)
    }

    async fn databases_in(&mut self, statuses: &[DatabaseStatus]) -> Result<Vec<Database>> {
        let rows: Vec<DatabaseRow> =
            sqlx::query_as(concat!("SELECT ", database_columns!(), " FROM databases ORDER BY id"))
                .fetch_all(&mut *self.0)
                .await?;
        let all: Vec<Database> = convert(rows)?;
        Ok(all.into_iter().filter(|d| statuses.contains(&d.status)).collect())
    }

    async fn rotate_login(&mut self, scope: &TenantScope, id: &DatabaseId, r: &Rotation) -> Result<Option<Database>> {
        let row: Option<DatabaseRow> = sqlx::query_as(concat!(
            "UPDATE databases SET owner_role = COALESCE(owner_role, username), username = ?, password_sealed = ?, \
             previous_username = ?, previous_valid_until = ?, updated_at = ? WHERE tenant_id = ? AND id = ? RETURNING ",
            database_columns!()
        ))
        .bind(r.username.clone())
        .bind(r.password_sealed.clone())
        .bind(r.previous_username.clone())
        .bind(ts(r.previous_valid_until))
        .bind(ts(Utc::now()))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Database::try_from).transpose()
    }

    async fn database_ports(&mut self) -> Result<Vec<u16>> {
        let ports: Vec<i64> = sqlx::query_scalar("SELECT port FROM databases")
            .fetch_all(&mut *self.0)
            .await?;
        Ok(ports.into_iter().filter_map(|p| u16::try_from(p).ok()).collect())
    }

    async fn set_database_state(&mut self, id: &DatabaseId, state: &DatabaseState) -> Result<Option<Database>> {
        let row: Option<DatabaseRow> = sqlx::query_as(concat!(
            "UPDATE databases SET status = ?, error = ?, last_exit_reason = COALESCE(?, last_exit_reason), \
             updated_at = ? WHERE id = ? RETURNING ",
            database_columns!()
        ))
        .bind(state.status.as_str())
        .bind(state.error.clone())
        .bind(state.last_exit_reason.clone())
        .bind(ts(Utc::now()))
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Database::try_from).transpose()
    }

    async fn database_uid(&mut self, id: &DatabaseId, range: std::ops::RangeInclusive<u32>) -> Result<u32> {
        self.uid_for(id.as_str(), range).await
    }
}
