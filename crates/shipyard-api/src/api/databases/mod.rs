//! Managed databases: a real PostgreSQL server per database, made in the background
//! (`provisioning → running`), started, stopped and deleted here; `…/connection` hands out
//! the one credential.

pub mod attach;
pub mod backups;
pub mod create;
pub mod lifecycle;
pub mod read;
pub mod restores;
pub mod rotate;
pub mod tunnel;

use crate::error::ApiResult;
use shipyard_api_types::backups::LastBackup;
use shipyard_api_types::databases::{DatabaseAttachment, DatabaseLimits, DatabaseView};
use shipyard_store::{Attachment, Attachments, Backups, Database, TenantScope, Tx};

/// What a database's view shows beside its row: its attachments and its last backup.
pub struct Around {
    /// Projects its URL is given to.
    pub attachments: Vec<Attachment>,
    /// Its newest backup that ended.
    pub last_backup: Option<LastBackup>,
}

/// Reads what `d`'s view shows beside its row.
pub async fn around(tx: &mut Tx, scope: &TenantScope, d: &Database) -> ApiResult<Around> {
    let attachments = tx.database_attachments(scope, &d.id).await?;
    let last_backup = tx.last_ended_backup(&d.id).await?.map(|b| LastBackup {
        status: b.status,
        at: b.completed_at,
    });
    Ok(Around {
        attachments,
        last_backup,
    })
}

/// The view of `d` with its attachments, read in `tx`.
pub async fn view_in(
    tx: &mut Tx,
    scope: &TenantScope,
    d: Database,
    size_bytes: Option<i64>,
) -> ApiResult<DatabaseView> {
    let around = around(tx, scope, &d).await?;
    Ok(database_view(d, around, size_bytes))
}

/// The API's view of a stored database and what is around it; `size_bytes` when it was read.
pub fn database_view(d: Database, around: Around, size_bytes: Option<i64>) -> DatabaseView {
    let attachments = around.attachments;
    DatabaseView {
        id: d.id.to_string(),
        name: d.name,
        engine: d.engine,
        version: d.version,
        status: d.status,
        host: shipyard_core::DATABASE_HOST.to_owned(),
        port: d.port,
        database_name: d.database_name,
        username: d.username,
        attachments: attachments
            .iter()
            .map(|a| DatabaseAttachment {
                project_id: a.project_id.to_string(),
                environment_id: a.environment_id.as_ref().map(ToString::to_string),
                env_var: a.env_var.clone(),
            })
            .collect(),
        limits: DatabaseLimits {
            memory_mb: d.memory_mb,
            disk_mb: d.disk_mb,
        },
        size_bytes,
        error: d.error,
        last_exit_reason: d.last_exit_reason,
        last_backup: around.last_backup,
        created_at: d.created_at,
    }
}
