//! Backups of managed databases and restores of them. The workspace's methods are confined to
//! its scope; the backup worker's (claim the next job, record how it went) are not.

use crate::Result;
use crate::model::{Backup, BackupUpdate, NewRestore, Page, Paged, Restore};
use crate::scope::TenantScope;
use shipyard_core::{BackupId, BackupKind, DatabaseId, JobStatus, RestoreId, TenantId};
use std::future::Future;

/// Backups and restores.
pub trait Backups {
    /// Stores a new `pending` backup `id` of `database` (its key sealed for that id); a daily
    /// one names its `day` and is not made (None) when that day has one already, nor when the
    /// database is gone.
    fn create_backup(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        id: &BackupId,
        kind: BackupKind,
        key_sealed: &[u8],
        day: Option<&str>,
    ) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// The database's backups, newest first.
    fn list_backups(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Backup>>> + Send;
    /// One backup of the database.
    fn backup(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        id: &BackupId,
    ) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// The newest backup that ended (completed or failed), for the database's view.
    fn last_ended_backup(&mut self, database: &DatabaseId) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// The database's backup still pending or running, if any.
    fn backup_in_flight(&mut self, database: &DatabaseId) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// Whether a restore of `backup` is still pending or running.
    fn backup_being_restored(&mut self, backup: &BackupId) -> impl Future<Output = Result<bool>> + Send;
    /// Removes a backup's row; false when there was none.
    fn delete_backup(&mut self, tenant: &TenantId, id: &BackupId) -> impl Future<Output = Result<bool>> + Send;
    /// Claims the oldest `pending` backup: it becomes `running`, started now.
    fn claim_backup(&mut self) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// A backup by id alone (the worker's view).
    fn backup_by_id(&mut self, id: &BackupId) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// Records how a backup's job went; None when the backup is gone.
    fn update_backup(
        &mut self,
        id: &BackupId,
        update: &BackupUpdate,
    ) -> impl Future<Output = Result<Option<Backup>>> + Send;
    /// After a restart: `running` backups are `pending` again (attempt 2), or `failed` with
    /// `why` when they were already retried; returns how many of each.
    fn interrupt_backups(&mut self, why: &str) -> impl Future<Output = Result<(u64, u64)>> + Send;
    /// Daily backups of `database` beyond the newest `keep` completed ones and the newest `keep`
    /// failed ones, oldest first.
    fn dailies_beyond(&mut self, database: &DatabaseId, keep: u32) -> impl Future<Output = Result<Vec<Backup>>> + Send;
    /// Every backup id of `database`, whatever its state (its files go with it).
    fn backup_ids(&mut self, database: &DatabaseId) -> impl Future<Output = Result<Vec<BackupId>>> + Send;

    /// Stores a new `pending` restore.
    fn create_restore(&mut self, scope: &TenantScope, new: &NewRestore)
    -> impl Future<Output = Result<Restore>> + Send;
    /// The database's restores, newest first.
    fn list_restores(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Restore>>> + Send;
    /// One restore of the database.
    fn restore(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        id: &RestoreId,
    ) -> impl Future<Output = Result<Option<Restore>>> + Send;
    /// Claims the oldest `pending` restore: it becomes `running`, started now.
    fn claim_restore(&mut self) -> impl Future<Output = Result<Option<Restore>>> + Send;
    /// Records how a restore went (and the backup it took first).
    fn update_restore(
        &mut self,
        id: &RestoreId,
        status: JobStatus,
        error: Option<&str>,
        before_backup: Option<&BackupId>,
    ) -> impl Future<Output = Result<Option<Restore>>> + Send;
    /// After a restart: `running` restores are `failed` with `why` (each ran as one transaction,
    /// so none was half applied); returns how many.
    fn interrupt_restores(&mut self, why: &str) -> impl Future<Output = Result<u64>> + Send;
}
