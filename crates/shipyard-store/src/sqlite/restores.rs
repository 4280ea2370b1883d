//! `Backups` for SQLite: the restores half, and the trait's implementation over both halves.

use super::Tx;
use super::rows::{convert, parse_ts, ts};
use crate::model::{Backup, BackupUpdate, NewRestore, Page, Paged, Restore};
use crate::scope::TenantScope;
use crate::traits::Backups;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{BackupId, BackupKind, DatabaseId, JobStatus, RestoreId, RestoreTarget, TenantId};

macro_rules! restore_columns {
    () => {
        "id, tenant_id, database_id, backup_id, target, target_database_id, before_backup_id, status, error, \
         created_at, started_at, completed_at"
    };
}

#[derive(sqlx::FromRow)]
struct RestoreRow {
    id: String,
    tenant_id: String,
    database_id: String,
    backup_id: String,
    target: String,
    target_database_id: Option<String>,
    before_backup_id: Option<String>,
    status: String,
    error: Option<String>,
    created_at: String,
    started_at: Option<String>,
    completed_at: Option<String>,
}

impl TryFrom<RestoreRow> for Restore {
    type Error = StoreError;
    fn try_from(r: RestoreRow) -> Result<Self> {
        let opt = |t: Option<String>| t.as_deref().map(parse_ts).transpose();
        Ok(Restore {
            target: RestoreTarget::parse(&r.target)
                .ok_or_else(|| StoreError::Corrupt(format!("restore target `{}`", r.target)))?,
            status: JobStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("restore status `{}`", r.status)))?,
            created_at: parse_ts(&r.created_at)?,
            started_at: opt(r.started_at)?,
            completed_at: opt(r.completed_at)?,
            id: RestoreId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            database_id: DatabaseId::from_trusted(r.database_id),
            backup_id: BackupId::from_trusted(r.backup_id),
            target_database_id: r.target_database_id.map(DatabaseId::from_trusted),
            before_backup_id: r.before_backup_id.map(BackupId::from_trusted),
            error: r.error,
        })
    }
}

impl Backups for Tx {
    async fn create_backup(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        id: &BackupId,
        kind: BackupKind,
        key_sealed: &[u8],
        day: Option<&str>,
    ) -> Result<Option<Backup>> {
        self.insert_backup(scope, database, id, kind, key_sealed, day).await
    }

    async fn list_backups(&mut self, scope: &TenantScope, database: &DatabaseId, page: Page) -> Result<Paged<Backup>> {
        self.page_backups(scope, database, page).await
    }

    async fn backup(&mut self, scope: &TenantScope, database: &DatabaseId, id: &BackupId) -> Result<Option<Backup>> {
        self.backup_where(
            "tenant_id = ? AND database_id = ? AND id = ?",
            &[scope.tenant_id().as_str(), database.as_str(), id.as_str()],
        )
        .await
    }

    async fn last_ended_backup(&mut self, database: &DatabaseId) -> Result<Option<Backup>> {
        self.backup_where(
            "database_id = ? AND status IN ('completed', 'failed') ORDER BY completed_at DESC, id DESC LIMIT 1",
            &[database.as_str()],
        )
        .await
    }

    async fn backup_in_flight(&mut self, database: &DatabaseId) -> Result<Option<Backup>> {
        self.backup_where(
            "database_id = ? AND status IN ('pending', 'running') ORDER BY id LIMIT 1",
            &[database.as_str()],
        )
        .await
    }

    async fn backup_being_restored(&mut self, backup: &BackupId) -> Result<bool> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM database_restores WHERE backup_id = ? AND status IN ('pending', 'running')",
        )
        .bind(backup.as_str().to_owned())
        .fetch_one(&mut *self.0)
        .await?;
        Ok(count > 0)
    }

    async fn delete_backup(&mut self, tenant: &TenantId, id: &BackupId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM database_backups WHERE tenant_id = ? AND id = ?")
            .bind(tenant.as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn claim_backup(&mut self) -> Result<Option<Backup>> {
        self.claim_next_backup().await
    }

    async fn backup_by_id(&mut self, id: &BackupId) -> Result<Option<Backup>> {
        self.backup_where("id = ?", &[id.as_str()]).await
    }

    async fn update_backup(&mut self, id: &BackupId, update: &BackupUpdate) -> Result<Option<Backup>> {
        self.store_backup_update(id, update).await
    }

    async fn interrupt_backups(&mut self, why: &str) -> Result<(u64, u64)> {
        self.interrupt_running_backups(why).await
    }

    async fn dailies_beyond(&mut self, database: &DatabaseId, keep: u32) -> Result<Vec<Backup>> {
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        let mut beyond = Vec::new();
        // Completed and failed ones are kept apart: a streak of failures never pushes out the
        // last good backups, and failures do not pile up either.
        for condition in [
            "database_id = ? AND kind = 'daily' AND status = 'completed' ORDER BY day DESC",
            "database_id = ? AND kind = 'daily' AND status = 'failed' ORDER BY day DESC",
        ] {
            let mut dailies = self.backups_where(condition, &[database.as_str()]).await?;
            if dailies.len() > keep {
                beyond.extend(dailies.split_off(keep));
            }
        }
        beyond.sort_by(|a, b| a.day.cmp(&b.day));
        Ok(beyond)
    }

    async fn backup_ids(&mut self, database: &DatabaseId) -> Result<Vec<BackupId>> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM database_backups WHERE database_id = ?")
            .bind(database.as_str().to_owned())
            .fetch_all(&mut *self.0)
            .await?;
        Ok(ids.into_iter().map(BackupId::from_trusted).collect())
    }

    async fn create_restore(&mut self, scope: &TenantScope, new: &NewRestore) -> Result<Restore> {
        let row: RestoreRow = sqlx::query_as(concat!(
            "INSERT INTO database_restores (id, tenant_id, database_id, backup_id, target, target_database_id, \
             status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING ",
            restore_columns!()
        ))
        .bind(new.id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.database_id.as_str().to_owned())
        .bind(new.backup_id.as_str().to_owned())
        .bind(new.target.as_str())
        .bind(new.target_database_id.as_ref().map(|d| d.as_str().to_owned()))
        .bind(ts(Utc::now()))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Restore::try_from(row)
    }

    async fn list_restores(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        page: Page,
    ) -> Result<Paged<Restore>> {
        let (tenant, db) = (scope.tenant_id().as_str().to_owned(), database.as_str().to_owned());
        let rows: Vec<RestoreRow> = sqlx::query_as(concat!(
            "SELECT ",
            restore_columns!(),
            " FROM database_restores WHERE tenant_id = ? AND database_id = ? ORDER BY id DESC LIMIT ? OFFSET ?"
        ))
        .bind(tenant.clone())
        .bind(db.clone())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total =
            sqlx::query_scalar("SELECT COUNT(*) FROM database_restores WHERE tenant_id = ? AND database_id = ?")
                .bind(tenant)
                .bind(db)
                .fetch_one(&mut *self.0)
                .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn restore(&mut self, scope: &TenantScope, database: &DatabaseId, id: &RestoreId) -> Result<Option<Restore>> {
        let row: Option<RestoreRow> = sqlx::query_as(concat!(
            "SELECT ",
            restore_columns!(),
            " FROM database_restores WHERE tenant_id = ? AND database_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(database.as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Restore::try_from).transpose()
    }

    async fn claim_restore(&mut self) -> Result<Option<Restore>> {
        let row: Option<RestoreRow> = sqlx::query_as(concat!(
            "UPDATE database_restores SET status = 'running', started_at = ? \
             WHERE id = (SELECT id FROM database_restores WHERE status = 'pending' ORDER BY id LIMIT 1) RETURNING ",
            restore_columns!()
        ))
        .bind(ts(Utc::now()))
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Restore::try_from).transpose()
    }

    async fn update_restore(
        &mut self,
        id: &RestoreId,
        status: JobStatus,
        error: Option<&str>,
        before_backup: Option<&BackupId>,
    ) -> Result<Option<Restore>> {
        let ended = matches!(status, JobStatus::Completed | JobStatus::Failed).then(|| ts(Utc::now()));
        let row: Option<RestoreRow> = sqlx::query_as(concat!(
            "UPDATE database_restores SET status = ?, error = ?, before_backup_id = COALESCE(?, before_backup_id), \
             completed_at = COALESCE(?, completed_at) WHERE id = ? RETURNING ",
            restore_columns!()
        ))
        .bind(status.as_str())
        .bind(error.map(str::to_owned))
        .bind(before_backup.map(|b| b.as_str().to_owned()))
        .bind(ended)
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Restore::try_from).transpose()
    }

    async fn interrupt_restores(&mut self, why: &str) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE database_restores SET status = 'failed', error = ?, completed_at = ? WHERE status = 'running'",
        )
        .bind(why.to_owned())
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await?
        .rows_affected())
    }
}
