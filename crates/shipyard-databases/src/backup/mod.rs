//! Backups, proven: one worker per server takes them (and applies restores) one at a time,
//! from rows in the store — a `pending` row is its job, so a restart takes an interrupted one
//! again. Each backup is dumped from a snapshot into a sealed file in its workspace's disk
//! (counting toward its storage limit), then restored into a scratch database and compared
//! with the source as of that snapshot before it is called `completed`.

pub mod fingerprint;
mod opened;
mod prove;
mod restore;
pub mod schedule;
pub mod sealed;
mod take;
mod worker;

pub(crate) use worker::Worker;

use crate::cluster::Cluster;
use crate::error::DatabaseError;
use crate::manager::Clusters;
use crate::tools::Login;
use fingerprint::Fingerprint;
use shipyard_core::{BackupId, BackupKind, DatabaseStatus, JobStatus};
use shipyard_sandbox::Sandbox;
use shipyard_store::{Backend, Backup, BackupUpdate, Backups, Database, Databases, Jobs, SqliteStore, TenantScope};
use std::path::{Path, PathBuf};

/// Where a tool runs: the cluster, its sandbox, the platform's superuser password, and the
/// tenant's role (restores run as it: what a restore runs is the tenant's own SQL).
pub(crate) struct On<'a> {
    /// The cluster.
    pub cluster: &'a Cluster,
    /// Its sandbox.
    pub sandbox: &'a Sandbox,
    /// The platform's superuser password of that cluster.
    pub superuser: &'a str,
    /// The tenant's login of that cluster.
    pub tenant: Login<'a>,
    /// The tenant's role that owns its database (the login acts as it).
    pub owner: &'a str,
}

/// A backup's sealed file.
pub(crate) struct Sealed<'a> {
    /// Its path.
    pub file: &'a Path,
    /// Its key.
    pub key: &'a [u8],
    /// The backup's id (named in errors and scratch databases).
    pub backup: &'a str,
}

pub(crate) fn key_context(id: &BackupId) -> Vec<u8> {
    format!("backup-key:{id}").into_bytes()
}

impl Clusters {
    /// Stores a new `pending` backup of `db` and wakes the worker.
    pub async fn request_backup(
        &self,
        scope: &TenantScope,
        db: &Database,
        kind: BackupKind,
    ) -> Result<Backup, DatabaseError> {
        let id = BackupId::generate();
        let key_sealed = self.config.secret_box.seal(&sealed::new_key(), &key_context(&id));
        let mut tx = self.config.store.write().await?;
        let made = tx.create_backup(scope, &db.id, &id, kind, &key_sealed, None).await?;
        SqliteStore::commit(tx).await?;
        self.wake_backups();
        made.ok_or_else(|| DatabaseError::step("storing the backup", "its database is gone"))
    }

    /// A backup's key, opened.
    pub(crate) fn backup_key(&self, backup: &Backup) -> Result<Vec<u8>, DatabaseError> {
        self.config
            .secret_box
            .open(&backup.key_sealed, &key_context(&backup.id))
            .map_err(|e| DatabaseError::step("opening the backup's key", e))
    }

    /// Where a backup's sealed file is.
    pub(crate) fn backup_file(&self, backup: &Backup) -> PathBuf {
        self.config
            .workspaces
            .backups(backup.tenant_id.as_str(), backup.database_id.as_str())
            .join(format!("{}.sybk", backup.id))
    }

    /// The plain dump of a completed backup, chunk by chunk (each authenticated as it is read).
    pub async fn open_backup(&self, backup: &Backup) -> Result<sealed::SealedReader, DatabaseError> {
        self.require_completed(backup, "downloaded")?;
        let key = self.backup_key(backup)?;
        sealed::SealedReader::open(&self.backup_file(backup), &key)
            .await
            .map_err(|source| DatabaseError::Unreadable {
                id: backup.id.to_string(),
                source,
            })
    }

    fn require_completed(&self, backup: &Backup, what: &'static str) -> Result<(), DatabaseError> {
        if backup.status == JobStatus::Completed {
            return Ok(());
        }
        Err(DatabaseError::BackupNotCompleted {
            id: backup.id.to_string(),
            status: backup.status.as_str(),
            what,
        })
    }

    /// Removes a backup: its row, then its file.
    pub async fn delete_backup(&self, backup: &Backup) -> Result<(), DatabaseError> {
        let mut tx = self.config.store.write().await?;
        tx.delete_backup(&backup.tenant_id, &backup.id).await?;
        SqliteStore::commit(tx).await?;
        remove_if_there(&self.backup_file(backup))
    }

    /// Proves a completed backup again against the fingerprint its dump recorded; the backup
    /// as it now stands (`failed` with the reason when the proof fails).
    pub async fn verify_backup(&self, backup: &Backup) -> Result<Backup, DatabaseError> {
        self.require_completed(backup, "verified")?;
        let db = self.database_of(backup).await?;
        let source: Fingerprint = backup
            .fingerprint
            .as_deref()
            .and_then(|f| serde_json::from_str(f).ok())
            .ok_or_else(|| DatabaseError::step("verifying it", "it has no recorded fingerprint"))?;
        let proven = self.prove_file(&db, backup, &source, false).await;
        let update = match proven {
            Ok(verified) => BackupUpdate {
                status: JobStatus::Completed,
                size_bytes: None,
                error: None,
                fingerprint: None,
                verified: Some(verified),
            },
            // Only what the backup itself is to blame for fails it: a damaged file, a dump that
            // does not restore, a copy that differs. The rest (a server that did not answer)
            // leaves a good backup good.
            Err(
                e @ (DatabaseError::Unreadable { .. }
                | DatabaseError::Step {
                    step: prove::RESTORING | prove::PROVING,
                    ..
                }),
            ) => failed(format!("its proof failed: {e}")),
            Err(e @ DatabaseError::Step { .. }) => return Err(DatabaseError::Unavailable(e.to_string())),
            Err(e) => return Err(e),
        };
        self.record_backup(&backup.id, &update).await
    }

    async fn prove_file(
        &self,
        db: &Database,
        backup: &Backup,
        source: &Fingerprint,
        wait: bool,
    ) -> Result<(i64, i64), DatabaseError> {
        if db.status != DatabaseStatus::Running {
            return Err(DatabaseError::NotRunning(db.id.to_string()));
        }
        let opened = self.opened(db, backup)?;
        self.check_room(db, &opened).await?;
        // The worker waits its turn; a verify asked over HTTP does not queue behind others.
        let _one_at_a_time = if wait {
            self.backups.proving.lock().await
        } else {
            self.backups.proving.try_lock().map_err(|_| DatabaseError::ProofBusy)?
        };
        prove::prove(&opened.on(&self.config.sandbox), &opened.sealed(), source).await
    }

    /// Runs the daily schedule as of `now` (server time): queues the day's backups, records
    /// the skipped ones, removes what the retention drops.
    pub async fn run_schedule(&self, now: chrono::NaiveDateTime) -> Result<schedule::Planned, DatabaseError> {
        let mut tx = self.config.store.write().await?;
        let planned = schedule::plan(&mut tx, now, &self.backups.schedule, &self.config.secret_box).await?;
        SqliteStore::commit(tx).await?;
        for old in &planned.pruned {
            remove_if_there(&self.backup_file(old))?;
        }
        if !planned.queued.is_empty() {
            tracing::info!(
                queued = planned.queued.len(),
                skipped = planned.skipped.len(),
                "daily backups queued"
            );
            self.wake_backups();
        }
        Ok(planned)
    }

    /// Removes `database`'s daily backups past the retention, rows and files.
    pub(crate) async fn prune_dailies(&self, database: &shipyard_core::DatabaseId) -> Result<usize, DatabaseError> {
        let mut tx = self.config.store.write().await?;
        let pruned = schedule::prune(&mut tx, database, self.backups.schedule.retention).await?;
        SqliteStore::commit(tx).await?;
        for old in &pruned {
            remove_if_there(&self.backup_file(old))?;
        }
        Ok(pruned.len())
    }

    /// The workspace's scope, for the platform's own writes to it.
    pub(crate) async fn scope_of(&self, db: &Database) -> Result<TenantScope, DatabaseError> {
        let mut tx = self.config.store.read().await?;
        let scope = tx.worker_scope(&db.tenant_id).await?;
        SqliteStore::commit(tx).await?;
        scope.ok_or_else(|| DatabaseError::step("reading its workspace", "the workspace is gone"))
    }

    /// The backup's database, read afresh.
    pub(crate) async fn database_of(&self, backup: &Backup) -> Result<Database, DatabaseError> {
        let mut tx = self.config.store.read().await?;
        let scope = tx.worker_scope(&backup.tenant_id).await?;
        let db = match scope {
            Some(scope) => tx.database(&scope, &backup.database_id).await?,
            None => None,
        };
        SqliteStore::commit(tx).await?;
        db.ok_or_else(|| DatabaseError::step("reading its database", "the database is gone"))
    }

    pub(crate) async fn record_backup(&self, id: &BackupId, update: &BackupUpdate) -> Result<Backup, DatabaseError> {
        let mut tx = self.config.store.write().await?;
        let stored = tx.update_backup(id, update).await?;
        SqliteStore::commit(tx).await?;
        stored.ok_or_else(|| DatabaseError::step("recording the backup", "it was deleted"))
    }

    /// Takes a claimed backup: dump, then proof. The backup as it ended.
    pub(crate) async fn take_backup(&self, backup: &Backup) -> Result<Backup, DatabaseError> {
        let outcome = self.dump_and_prove(backup).await;
        let update = match outcome {
            Ok((size, fingerprint, verified)) => BackupUpdate {
                status: JobStatus::Completed,
                size_bytes: Some(size),
                error: None,
                fingerprint: Some(fingerprint),
                verified: Some(verified),
            },
            Err(e) => {
                let _ = remove_if_there(&self.backup_file(backup));
                failed(e.to_string())
            }
        };
        self.record_backup(&backup.id, &update).await
    }

    async fn dump_and_prove(&self, backup: &Backup) -> Result<(i64, String, (i64, i64)), DatabaseError> {
        let db = self.database_of(backup).await?;
        if db.status != DatabaseStatus::Running {
            return Err(DatabaseError::NotRunning(db.id.to_string()));
        }
        let opened = self.opened(&db, backup)?;
        let file = self.backup_file(backup);
        let partial = file.with_extension("partial");
        self.prepare_backup_dir(&db, &file).await?;
        remove_if_there(&partial)?;
        let on = opened.on(&self.config.sandbox);
        let max = u64::from(db.disk_mb).saturating_mul(2) << 20;
        let dumped = match take::dump(&on, &db.database_name, &partial, &opened.key, max).await {
            Ok(dumped) => dumped,
            Err(e) => {
                let _ = remove_if_there(&partial);
                return Err(e);
            }
        };
        std::fs::rename(&partial, &file).map_err(|e| DatabaseError::step("keeping the backup file", e))?;
        let fingerprint = serde_json::to_string(&dumped.source)
            .map_err(|e| DatabaseError::step("recording the source's fingerprint", e))?;
        let verified = self
            .prove_file(&db, backup, &dumped.source, true)
            .await
            .map_err(|e| match e {
                DatabaseError::Unreadable { .. }
                | DatabaseError::Step {
                    step: prove::RESTORING | prove::PROVING,
                    ..
                } => DatabaseError::step("its proof", format!("the restored copy does not match: {e}")),
                other => other,
            })?;
        Ok((i64::try_from(dumped.size).unwrap_or(i64::MAX), fingerprint, verified))
    }

    /// Makes the backups' directory in the workspace's disk (root's alone).
    async fn prepare_backup_dir(&self, db: &Database, file: &Path) -> Result<(), DatabaseError> {
        use std::os::unix::fs::PermissionsExt;
        let step = "preparing the backups' directory";
        let limit = self.storage_limit(db).await?;
        let (workspaces, tenant) = (self.config.workspaces.clone(), db.tenant_id.clone());
        let dir = file.parent().map(Path::to_owned).unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            workspaces.attach(tenant.as_str(), limit)?;
            workspaces.while_mounted(tenant.as_str(), |_| {
                let io = |e: std::io::Error| shipyard_sandbox::DiskError::Io {
                    path: dir.clone(),
                    source: e,
                };
                std::fs::create_dir_all(&dir).map_err(io)?;
                if let Some(parent) = dir.parent() {
                    std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
                }
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
            })
        })
        .await
        .map_err(|e| DatabaseError::step(step, e))?
        .map_err(|e| DatabaseError::step(step, e))
    }

    /// Removes every backup file of `db` (it is being deleted).
    pub(crate) fn remove_backup_files(&self, db: &Database) -> Result<(), DatabaseError> {
        let dir = self.config.workspaces.backups(db.tenant_id.as_str(), db.id.as_str());
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DatabaseError::step("removing its backups", e)),
            _ => Ok(()),
        }
    }
}

/// A failed job's update.
fn failed(error: String) -> BackupUpdate {
    BackupUpdate {
        status: JobStatus::Failed,
        size_bytes: None,
        error: Some(error),
        fingerprint: None,
        verified: None,
    }
}

fn remove_if_there(path: &Path) -> Result<(), DatabaseError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DatabaseError::step("removing a backup file", e)),
        _ => Ok(()),
    }
}
