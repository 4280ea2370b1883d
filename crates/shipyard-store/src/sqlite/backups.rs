//! `Backups` for SQLite: the backups half (restores are in `restores.rs`).

use super::Tx;
use super::rows::{convert, parse_ts, ts};
use crate::model::{Backup, BackupUpdate, Page, Paged};
use crate::scope::TenantScope;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{BackupId, BackupKind, DatabaseId, JobStatus, TenantId};

macro_rules! backup_columns {
    () => {
        "id, tenant_id, database_id, kind, status, attempt, key_sealed, size_bytes, error, verified_tables, \
         verified_rows, restore_verified_at, fingerprint, day, created_at, started_at, completed_at"
    };
}

/// The same columns for lists: a fingerprint (a line per table) is read only where a proof
/// needs it, never a page of them at once.
macro_rules! listed_backup_columns {
    () => {
        "id, tenant_id, database_id, kind, status, attempt, key_sealed, size_bytes, error, verified_tables, \
         verified_rows, restore_verified_at, NULL AS fingerprint, day, created_at, started_at, completed_at"
    };
}

#[derive(sqlx::FromRow)]
struct BackupRow {
    id: String,
    tenant_id: String,
    database_id: String,
    kind: String,
    status: String,
    attempt: i64,
    key_sealed: Vec<u8>,
    size_bytes: Option<i64>,
    error: Option<String>,
    verified_tables: Option<i64>,
    verified_rows: Option<i64>,
    restore_verified_at: Option<String>,
    fingerprint: Option<String>,
    day: Option<String>,
    created_at: String,
    started_at: Option<String>,
    completed_at: Option<String>,
}

impl TryFrom<BackupRow> for Backup {
    type Error = StoreError;
    fn try_from(r: BackupRow) -> Result<Self> {
        let opt = |t: Option<String>| t.as_deref().map(parse_ts).transpose();
        Ok(Backup {
            kind: BackupKind::parse(&r.kind).ok_or_else(|| StoreError::Corrupt(format!("backup kind `{}`", r.kind)))?,
            status: JobStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("backup status `{}`", r.status)))?,
            restore_verified_at: opt(r.restore_verified_at)?,
            created_at: parse_ts(&r.created_at)?,
            started_at: opt(r.started_at)?,
            completed_at: opt(r.completed_at)?,
            id: BackupId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            database_id: DatabaseId::from_trusted(r.database_id),
            attempt: r.attempt,
            key_sealed: r.key_sealed,
            size_bytes: r.size_bytes,
            error: r.error,
            verified_tables: r.verified_tables,
            verified_rows: r.verified_rows,
            fingerprint: r.fingerprint,
            day: r.day,
        })
    }
}

impl Tx {
    pub(super) async fn insert_backup(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        id: &BackupId,
        kind: BackupKind,
        key_sealed: &[u8],
        day: Option<&str>,
    ) -> Result<Option<Backup>> {
        let row: Option<BackupRow> = sqlx::query_as(concat!(
            "INSERT INTO database_backups (id, tenant_id, database_id, kind, status, key_sealed, day, created_at) \
             SELECT ?, ?, id, ?, 'pending', ?, ?, ? FROM databases WHERE tenant_id = ? AND id = ? \
             ON CONFLICT DO NOTHING RETURNING ",
            backup_columns!()
        ))
        .bind(id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(kind.as_str())
        .bind(key_sealed.to_vec())
        .bind(day.map(str::to_owned))
        .bind(ts(Utc::now()))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(database.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        row.map(Backup::try_from).transpose()
    }

    pub(super) async fn page_backups(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        page: Page,
    ) -> Result<Paged<Backup>> {
        let (tenant, db) = (scope.tenant_id().as_str().to_owned(), database.as_str().to_owned());
        let rows: Vec<BackupRow> = sqlx::query_as(concat!(
            "SELECT ",
            listed_backup_columns!(),
            " FROM database_backups WHERE tenant_id = ? AND database_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
        ))
        .bind(tenant.clone())
        .bind(db.clone())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM database_backups WHERE tenant_id = ? AND database_id = ?")
            .bind(tenant)
            .bind(db)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    pub(super) async fn backup_where(&mut self, condition: &'static str, binds: &[&str]) -> Result<Option<Backup>> {
        // Only the callers' literal conditions reach the text; every value is bound.
        let sql = format!("SELECT {} FROM database_backups WHERE {condition}", backup_columns!());
        let mut query = sqlx::query_as::<_, BackupRow>(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind((*bind).to_owned());
        }
        query
            .fetch_optional(&mut *self.0)
            .await?
            .map(Backup::try_from)
            .transpose()
    }

    pub(super) async fn backups_where(&mut self, condition: &'static str, binds: &[&str]) -> Result<Vec<Backup>> {
        // Only the callers' literal conditions reach the text; every value is bound.
        let sql = format!("SELECT {} FROM database_backups WHERE {condition}", backup_columns!());
        let mut query = sqlx::query_as::<_, BackupRow>(sqlx::AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind((*bind).to_owned());
        }
        convert(query.fetch_all(&mut *self.0).await?)
    }

    pub(super) async fn claim_next_backup(&mut self) -> Result<Option<Backup>> {
        let row: Option<BackupRow> = sqlx::query_as(concat!(
            "UPDATE database_backups SET status = 'running', started_at = ?, error = NULL \
             WHERE id = (SELECT id FROM database_backups WHERE status = 'pending' ORDER BY id LIMIT 1) RETURNING ",
            backup_columns!()
        ))
        .bind(ts(Utc::now()))
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Backup::try_from).transpose()
    }

    pub(super) async fn store_backup_update(&mut self, id: &BackupId, u: &BackupUpdate) -> Result<Option<Backup>> {
        let now = ts(Utc::now());
        let ended = matches!(u.status, JobStatus::Completed | JobStatus::Failed).then(|| now.clone());
        let row: Option<BackupRow> = sqlx::query_as(concat!(
            "UPDATE database_backups SET status = ?, size_bytes = COALESCE(?, size_bytes), error = ?, \
             fingerprint = COALESCE(?, fingerprint), verified_tables = COALESCE(?, verified_tables), verified_rows = COALESCE(?, verified_rows), \
             restore_verified_at = CASE WHEN ? IS NULL THEN restore_verified_at ELSE ? END, \
             completed_at = COALESCE(?, completed_at) WHERE id = ? RETURNING ",
            backup_columns!()
        ))
        .bind(u.status.as_str())
        .bind(u.size_bytes)
        .bind(u.error.clone())
        .bind(u.fingerprint.clone())
        .bind(u.verified.map(|v| v.0))
        .bind(u.verified.map(|v| v.1))
        .bind(u.verified.map(|_| now.clone()))
        .bind(u.verified.map(|_| now.clone()))
        .bind(ended)
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Backup::try_from).transpose()
    }

    pub(super) async fn interrupt_running_backups(&mut self, why: &str) -> Result<(u64, u64)> {
        let failed = sqlx::query(
            "UPDATE database_backups SET status = 'failed', error = ?, completed_at = ? \
             WHERE status = 'running' AND attempt > 1",
        )
        .bind(why.to_owned())
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await?
        .rows_affected();
        let again = sqlx::query(
            "UPDATE database_backups SET status = 'pending', attempt = attempt + 1, size_bytes = NULL, fingerprint = NULL \
             WHERE status = 'running'",
        )
        .execute(&mut *self.0)
        .await?
        .rows_affected();
        Ok((again, failed))
    }
}
