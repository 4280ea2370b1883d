//! Backups of managed databases and restores of them, as stored.

use chrono::{DateTime, Utc};
use shipyard_core::{BackupId, BackupKind, DatabaseId, JobStatus, RestoreId, RestoreTarget, TenantId};

/// A backup: its job's state, and once taken its encrypted file's size and its proof.
#[derive(Debug, Clone)]
pub struct Backup {
    /// `bkp_…`
    pub id: BackupId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The database it is of.
    pub database_id: DatabaseId,
    /// Why it was taken.
    pub kind: BackupKind,
    /// Where its job is.
    pub status: JobStatus,
    /// 1, or 2 when a restart interrupted the first try.
    pub attempt: i64,
    /// The key its file is encrypted with, sealed with the master key.
    pub key_sealed: Vec<u8>,
    /// Bytes of the dump (`pg_dump -Fc`), once taken.
    pub size_bytes: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Tables the proof compared.
    pub verified_tables: Option<i64>,
    /// Rows the proof compared.
    pub verified_rows: Option<i64>,
    /// When a restore last proved it.
    pub restore_verified_at: Option<DateTime<Utc>>,
    /// What the proof compares a restored copy with (JSON), read in the dump's snapshot.
    pub fingerprint: Option<String>,
    /// The day a daily backup is for.
    pub day: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When its dump began.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
}

/// How a backup's job ended or moved on.
#[derive(Debug, Clone)]
pub struct BackupUpdate {
    /// The new status.
    pub status: JobStatus,
    /// Bytes of the dump.
    pub size_bytes: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// The source's fingerprint (JSON), once read.
    pub fingerprint: Option<String>,
    /// (tables, rows) a proof compared; sets `restore_verified_at` to now.
    pub verified: Option<(i64, i64)>,
}

/// A restore of a backup.
#[derive(Debug, Clone)]
pub struct Restore {
    /// `rst_…`
    pub id: RestoreId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The backup's database.
    pub database_id: DatabaseId,
    /// The backup restored.
    pub backup_id: BackupId,
    /// New database or the same one.
    pub target: RestoreTarget,
    /// The database restored into, once known.
    pub target_database_id: Option<DatabaseId>,
    /// The backup a `same` restore took of what it replaced.
    pub before_backup_id: Option<BackupId>,
    /// Where its job is.
    pub status: JobStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it began.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A new restore.
#[derive(Debug, Clone)]
pub struct NewRestore {
    /// `rst_…`
    pub id: RestoreId,
    /// The backup.
    pub backup_id: BackupId,
    /// Its database.
    pub database_id: DatabaseId,
    /// Where it goes.
    pub target: RestoreTarget,
    /// The new database a `new` restore goes into (made with the restore, in one write).
    pub target_database_id: Option<DatabaseId>,
}
