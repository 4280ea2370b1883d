//! Restores, which never destroy: `new` restores into a database made for it and leaves the
//! source untouched; `same` first takes (and proves) a backup of what the database holds now,
//! so the restore itself can be undone, then restores with `--clean --if-exists` in one
//! transaction — all of it, or nothing.

use super::prove::{self, Target};
use crate::error::DatabaseError;
use crate::manager::Clusters;
use shipyard_core::{BackupKind, DatabaseStatus, JobStatus, RestoreTarget};
use shipyard_store::{Attachments, Backend, Backup, Backups, Database, Jobs, Releases, Restore, SqliteStore};
use std::time::Duration;

/// How long a `new` restore waits for its database to be made.
const MADE_WITHIN: Duration = Duration::from_secs(10 * 60);

impl Clusters {
    /// Applies a claimed restore and records how it ended.
    pub(crate) async fn run_restore(&self, restore: &Restore) {
        let (status, error, before) = match self.apply_restore(restore).await {
            Ok(before) => (JobStatus::Completed, None, before),
            Err((e, before)) => (JobStatus::Failed, Some(e.to_string()), before),
        };
        match &error {
            Some(e) => tracing::warn!(restore = %restore.id, error = %e, "restore failed"),
            None => tracing::info!(restore = %restore.id, "restore completed"),
        }
        let recorded = async {
            let mut tx = self.config.store.write().await?;
            tx.update_restore(&restore.id, status, error.as_deref(), before.as_ref().map(|b| &b.id))
                .await?;
            SqliteStore::commit(tx).await
        };
        if let Err(e) = recorded.await {
            tracing::error!(restore = %restore.id, error = %e, "a restore's end could not be stored");
        }
    }

    /// The restore's work; the backup a `same` restore took first, also on failure.
    async fn apply_restore(&self, restore: &Restore) -> Result<Option<Backup>, (DatabaseError, Option<Backup>)> {
        let backup = self.restored_backup(restore).await.map_err(|e| (e, None))?;
        match restore.target {
            RestoreTarget::New => {
                let id = restore
                    .target_database_id
                    .as_ref()
                    .ok_or_else(|| (DatabaseError::step("restoring it", "its new database is gone"), None))?;
                let target = self.made(&backup, id).await.map_err(|e| (e, None))?;
                self.restore_into(&backup, &target, false)
                    .await
                    .map_err(|e| (e, None))?;
                Ok(None)
            }
            RestoreTarget::Same => {
                let db = self.database_of(&backup).await.map_err(|e| (e, None))?;
                if db.status != DatabaseStatus::Running {
                    return Err((DatabaseError::NotRunning(db.id.to_string()), None));
                }
                let scope = self.scope_of(&db).await.map_err(|e| (e, None))?;
                let before = self
                    .request_backup(&scope, &db, BackupKind::BeforeRestore)
                    .await
                    .map_err(|e| (e, None))?;
                let before = self.take_backup(&before).await.map_err(|e| (e, None))?;
                if before.status != JobStatus::Completed {
                    let why = before.error.clone().unwrap_or_default();
                    return Err((
                        DatabaseError::step(
                            "restoring it",
                            format!(
                                "the backup of its current state ({}) failed, so nothing was restored: {why}",
                                before.id
                            ),
                        ),
                        Some(before),
                    ));
                }
                match self.restore_into(&backup, &db, true).await {
                    Ok(()) => {
                        self.tell_attached(&db, &backup, &before).await;
                        Ok(Some(before))
                    }
                    Err(e) => Err((e, Some(before))),
                }
            }
        }
    }

    /// Says in the runtime log of every active release the database is attached to that its
    /// contents were replaced (an app that cached rows, or whose session was cut, learns why).
    async fn tell_attached(&self, db: &Database, backup: &Backup, before: &Backup) {
        let releases = async {
            let mut tx = self.config.store.read().await?;
            let Some(scope) = tx.worker_scope(&db.tenant_id).await? else {
                return Ok(Vec::new());
            };
            let attachments = tx.database_attachments(&scope, &db.id).await?;
            let active = tx.active_releases(&scope).await?;
            SqliteStore::commit(tx).await?;
            Ok::<_, shipyard_store::StoreError>(
                active
                    .into_iter()
                    .filter(|r| {
                        attachments
                            .iter()
                            .any(|a| a.project_id == r.project_id && a.covers(&r.environment_id))
                    })
                    .map(|r| r.id)
                    .collect(),
            )
        };
        let releases = match releases.await {
            Ok(releases) => releases,
            Err(e) => {
                tracing::warn!(database = %db.id, error = %e, "the attached apps could not be told of a restore");
                return;
            }
        };
        let line = format!(
            "database {} ({}) was restored from backup {}; what it held before is backup {} (restore it to undo)",
            db.name, db.id, backup.id, before.id
        );
        for release in releases {
            let stream = shipyard_store::logs::runtime_stream(&release);
            self.config
                .logs
                .append(&stream, shipyard_store::logs::LogKind::System, &line)
                .await;
        }
    }

    /// The completed backup a restore restores.
    async fn restored_backup(&self, restore: &Restore) -> Result<Backup, DatabaseError> {
        let mut tx = self.config.store.read().await?;
        let backup = tx.backup_by_id(&restore.backup_id).await?;
        SqliteStore::commit(tx).await?;
        let backup = backup.ok_or_else(|| DatabaseError::step("restoring it", "its backup was deleted"))?;
        if backup.status != JobStatus::Completed {
            return Err(DatabaseError::BackupNotCompleted {
                id: backup.id.to_string(),
                status: backup.status.as_str(),
                what: "restored",
            });
        }
        Ok(backup)
    }

    /// Waits (bounded) until the database made for a `new` restore runs.
    async fn made(&self, backup: &Backup, id: &shipyard_core::DatabaseId) -> Result<Database, DatabaseError> {
        let began = tokio::time::Instant::now();
        loop {
            let probe = Backup {
                database_id: id.clone(),
                ..backup.clone()
            };
            let db = self.database_of(&probe).await?;
            match db.status {
                DatabaseStatus::Running => return Ok(db),
                DatabaseStatus::Provisioning if began.elapsed() < MADE_WITHIN => {}
                status => {
                    return Err(DatabaseError::step(
                        "making its new database",
                        format!(
                            "database {} is {}{}",
                            db.id,
                            status.as_str(),
                            db.error.map(|e| format!(": {e}")).unwrap_or_default()
                        ),
                    ));
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Restores `backup`'s file into `db` (dropping what it holds first when `clean`).
    async fn restore_into(&self, backup: &Backup, db: &Database, clean: bool) -> Result<(), DatabaseError> {
        let opened = self.opened(db, backup)?;
        let target = Target {
            database: &db.database_name,
            clean,
        };
        // One pg_restore at a time on this server, proofs included: each runs in its database's
        // one limit group for the tool.
        let _one_at_a_time = self.backups.proving.lock().await;
        prove::restore(&opened.on(&self.config.sandbox), &opened.sealed(), &target).await
    }
}
