//! Backups of managed databases, proven by a restore, and restores of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::{BackupKind, JobStatus, RestoreTarget};
use utoipa::ToSchema;

/// What a backup's proof compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupVerification {
    /// Tables restored and compared.
    pub tables: i64,
    /// Rows restored and compared.
    pub rows: i64,
}

/// A backup: `pending`, `running`, then `completed` (dumped and proven by a restore) or
/// `failed` with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupView {
    /// `bkp_…`
    pub id: String,
    /// The database it is of (`db_…`).
    pub database_id: String,
    /// manual, daily or beforeRestore.
    pub kind: BackupKind,
    /// pending, running, completed or failed.
    pub status: JobStatus,
    /// Bytes of the dump (`pg_dump -Fc`) a download hands out.
    pub size_bytes: Option<i64>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When its dump began.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
    /// When a restore last proved it.
    pub restore_verified_at: Option<DateTime<Utc>>,
    /// What that proof compared.
    pub verification: Option<BackupVerification>,
}

/// How the newest backup of a database that ended went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LastBackup {
    /// completed or failed.
    pub status: JobStatus,
    /// When it ended.
    pub at: Option<DateTime<Utc>>,
}

/// `POST …/backups/<b>/restore`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRestoreRequest {
    /// `new` (default): into a new database, the source untouched; `same`: into the backup's
    /// own database, after a backup of what it holds now.
    pub target: Option<RestoreTarget>,
    /// The new database's name (`new` only; default `<name>-restored-<n>`).
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
}

/// A restore of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RestoreView {
    /// `rst_…`
    pub id: String,
    /// The backup restored (`bkp_…`).
    pub backup_id: String,
    /// new or same.
    pub target: RestoreTarget,
    /// The database restored into.
    pub target_database_id: Option<String>,
    /// The backup a `same` restore took of what it replaced (restore it to undo).
    pub before_backup_id: Option<String>,
    /// pending, running, completed or failed.
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
