//! Every managed database of this server: provisioned and started in the background (each
//! its own tracked task), stopped and deleted on request, all stopped with the server.

use crate::cluster::Cluster;
use crate::engine::Engines;
use crate::error::DatabaseError;
use crate::supervise;
use shipyard_core::{DatabaseId, DatabaseStatus, SecretBox};
use shipyard_sandbox::{DiskKind, DiskSpec, Disks, Sandbox, Workspaces};
use shipyard_store::attached::open_database_secret;
use shipyard_store::{Backend, Database, DatabaseState, Databases, Deployments, Jobs, SqliteStore};
use shipyard_tasks::Tasks;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the server hands its databases.
pub struct ClustersConfig {
    /// The installed server binaries.
    pub engines: Engines,
    /// How processes are confined.
    pub sandbox: Sandbox,
    /// Mounts the databases' data disks.
    pub disks: Disks,
    /// The workspaces' disks, which hold the data disks' images.
    pub workspaces: Workspaces,
    /// Where data disks are mounted (`Layout::database_mounts`).
    pub mounts: PathBuf,
    /// Where each database's control directory is (`Layout::database_control`).
    pub control: PathBuf,
    /// The server's store.
    pub store: SqliteStore,
    /// Opens the sealed passwords.
    pub secret_box: SecretBox,
    /// Owns every database's task.
    pub tasks: Tasks,
    /// The uids sandboxes are given (`--sandbox-uids`); each database gets one of its own.
    pub uids: std::ops::RangeInclusive<u32>,
    /// When daily backups are taken and how many are kept.
    pub schedule: crate::backup::schedule::Schedule,
    /// Where the attached apps' runtime logs are written (a restore over a database says so).
    pub logs: shipyard_store::logs::LogWriter,
}

struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The databases this server runs.
#[derive(Clone)]
pub struct Clusters {
    pub(crate) config: Arc<ClustersConfig>,
    pub(crate) backups: Arc<crate::backup::Worker>,
    running: Arc<Mutex<HashMap<DatabaseId, Running>>>,
    held: Arc<Mutex<HashMap<DatabaseId, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Clusters {
    /// Databases over `config`; none runs until `resume` or `launch`.
    pub fn new(config: ClustersConfig) -> Self {
        Self {
            backups: Arc::new(crate::backup::Worker::new(config.schedule)),
            config: Arc::new(config),
            running: Arc::default(),
            held: Arc::default(),
        }
    }

    /// Holds `id` against every other start, stop and delete of it (each reads the database
    /// afresh once it holds it), so two of them never interleave.
    pub async fn hold(&self, id: &DatabaseId) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .held
            .lock()
            .map(|mut held| held.entry(id.clone()).or_default().clone())
            .unwrap_or_default();
        lock.lock_owned().await
    }

    /// Forgets a deleted database's hold (whoever waits on it finds the database gone).
    pub fn forget(&self, id: &DatabaseId) {
        if let Ok(mut held) = self.held.lock() {
            held.remove(id);
        }
    }

    /// The installed server binaries.
    pub fn engines(&self) -> &Engines {
        &self.config.engines
    }

    /// The uids databases (and projects) are given.
    pub fn uids(&self) -> std::ops::RangeInclusive<u32> {
        self.config.uids.clone()
    }

    /// The tenant role's password.
    pub fn password(&self, db: &Database) -> Result<String, DatabaseError> {
        self.open(db, &db.password_sealed, "password")
    }

    /// The database's size (`pg_database_size`), asked of its running server over the unix
    /// socket; nothing when it does not answer within a second.
    pub async fn size_bytes(&self, db: &Database) -> Option<i64> {
        let superuser = self.open(db, &db.superuser_password_sealed, "superuser").ok()?;
        let cluster = self.cluster(db).ok()?;
        let ask = async {
            let mut admin = cluster.admin(&superuser).await.ok()?;
            sqlx::query_scalar::<_, i64>("SELECT pg_database_size($1)")
                .bind(&db.database_name)
                .fetch_one(&mut admin)
                .await
                .ok()
        };
        tokio::time::timeout(std::time::Duration::from_secs(1), ask)
            .await
            .ok()
            .flatten()
    }

    pub(crate) fn cluster(&self, db: &Database) -> Result<Cluster, DatabaseError> {
        Ok(Cluster {
            id: db.id.to_string(),
            uid: db.uid,
            port: db.port,
            memory_mb: db.memory_mb,
            disk_mb: db.disk_mb,
            engine: self.config.engines.installed(&db.version)?.clone(),
            mount: self.mount(&db.id),
            control: self.control(&db.id),
        })
    }

    /// Refuses databases on a server without the sandbox.
    pub fn check_confined(&self) -> Result<(), DatabaseError> {
        if self.config.sandbox.is_confined() {
            Ok(())
        } else {
            Err(DatabaseError::Unconfined)
        }
    }

    /// Starts every database that was provisioning or running when the server last stopped,
    /// and the backup worker.
    pub async fn resume(&self) -> Result<usize, DatabaseError> {
        let mut tx = self.config.store.read().await?;
        let all = tx
            .databases_in(&[DatabaseStatus::Provisioning, DatabaseStatus::Running])
            .await?;
        SqliteStore::commit(tx).await?;
        let count = all.len();
        for db in all {
            self.launch(db);
        }
        self.start_backups().await?;
        Ok(count)
    }

    /// Provisions (when `provisioning`) and runs `db` in a task of its own.
    pub fn launch(&self, db: Database) {
        let (stop, stopped) = watch::channel(false);
        let id = db.id.clone();
        let this = self.clone();
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        // A run still going (a start right after another) ends first: never two servers on
        // one data directory.
        let previous = running.remove(&id);
        let task = self.config.tasks.try_spawn("database", async move {
            if let Some(old) = previous {
                let _ = old.stop.send(true);
                let _ = old.task.await;
            }
            this.bring_up(db, stopped).await;
        });
        if let Some(task) = task {
            running.insert(id, Running { stop, task });
        }
    }

    /// Stops `id`'s server (a fast shutdown) and waits until it is down; its disk is unmounted.
    pub async fn stop(&self, id: &DatabaseId) {
        let taken = self.running.lock().ok().and_then(|mut r| r.remove(id));
        if let Some(running) = taken {
            let _ = running.stop.send(true);
            let _ = running.task.await;
        }
        self.config.disks.detach(&self.mount(id));
    }

    /// Stops the backup worker, then every database (the server is stopping).
    pub async fn stop_all(&self) {
        self.stop_backups().await;
        let all: Vec<DatabaseId> = self
            .running
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        for id in all {
            self.stop(&id).await;
        }
    }

    /// Removes a stopped database's files: its data disk's image and mount point, its backups.
    pub async fn remove_files(&self, db: &Database) -> Result<(), DatabaseError> {
        self.stop(&db.id).await;
        self.remove_backup_files(db)?;
        let image = self
            .config
            .workspaces
            .database_image(db.tenant_id.as_str(), db.id.as_str());
        let (workspaces, tenant, at) = (self.config.workspaces.clone(), db.tenant_id.clone(), self.mount(&db.id));
        tokio::task::spawn_blocking(move || {
            workspaces.while_mounted(tenant.as_str(), |_| {
                shipyard_sandbox::disk::remove(&image, &at);
                Ok(())
            })
        })
        .await
        .map_err(|e| DatabaseError::step("removing its files", e))?
        .map_err(|e| DatabaseError::step("removing its files", e))?;
        match std::fs::remove_dir_all(self.control(&db.id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DatabaseError::step("removing its files", e)),
            _ => Ok(()),
        }
    }

    fn mount(&self, id: &DatabaseId) -> PathBuf {
        self.config.mounts.join(id.as_str())
    }

    fn control(&self, id: &DatabaseId) -> PathBuf {
        self.config.control.join(id.as_str())
    }

    pub(crate) fn open(&self, db: &Database, sealed: &[u8], what: &str) -> Result<String, DatabaseError> {
        Ok(open_database_secret(&self.config.secret_box, db, sealed, what)?)
    }

    /// Mounts the data disk, provisions when needed, starts the server and supervises it;
    /// any failure before it runs makes the database `failed` with the reason.
    #[tracing::instrument(name = "database", skip_all, fields(database = %db.id, tenant = %db.tenant_id))]
    async fn bring_up(self, db: Database, stop: watch::Receiver<bool>) {
        let (cluster, started) = match self.prepare(&db).await {
            Ok(up) => up,
            Err(e) => {
                tracing::warn!(error = %e, "database not brought up");
                self.record(&db.id, DatabaseStatus::Failed, Some(e.to_string()), None)
                    .await;
                return;
            }
        };
        tracing::info!(port = db.port, "database serving");
        let sandbox = self.config.sandbox.clone();
        let id = db.id.clone();
        supervise::supervise(&cluster, &sandbox, stop, started, |reason, last| {
            let this = self.clone();
            let id = id.clone();
            async move {
                tracing::warn!(reason, last, "database server (or a session of it) ended on its own");
                let (status, error) = if last {
                    (
                        DatabaseStatus::Failed,
                        Some(format!(
                            "its server crashed 5 times within 2 minutes; not restarted ({reason})"
                        )),
                    )
                } else {
                    (DatabaseStatus::Running, None)
                };
                this.record(&id, status, error, Some(reason)).await;
            }
        })
        .await;
    }

    async fn prepare(&self, db: &Database) -> Result<(Cluster, crate::cluster::Started), DatabaseError> {
        let cluster = self.cluster(db)?;
        let superuser = self.open(db, &db.superuser_password_sealed, "superuser")?;
        let spec_image = self
            .config
            .workspaces
            .database_image(db.tenant_id.as_str(), db.id.as_str());
        let (workspaces, disks, tenant) = (
            self.config.workspaces.clone(),
            self.config.disks.clone(),
            db.tenant_id.clone(),
        );
        let (at, bytes, uid) = (cluster.mount.clone(), u64::from(db.disk_mb) * 1024 * 1024, db.uid);
        let limit = self.storage_limit(db).await?;
        let disk = tokio::task::spawn_blocking(move || {
            workspaces.attach(tenant.as_str(), limit)?;
            workspaces.while_mounted(tenant.as_str(), |_| {
                if let Some(dir) = spec_image.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| shipyard_sandbox::DiskError::Io {
                        path: dir.to_owned(),
                        source: e,
                    })?;
                }
                disks.attach(&DiskSpec {
                    image: &spec_image,
                    at: &at,
                    bytes,
                    owner: Some((uid, uid)),
                    kind: DiskKind::Kept,
                })
            })
        })
        .await
        .map_err(|e| DatabaseError::step("mounting its data disk", e))?
        .map_err(|e| DatabaseError::step("mounting its data disk", e))?;
        // A kept disk stays mounted when its handle goes, until `stop` detaches it.
        drop(disk);
        let provisioning = db.status == DatabaseStatus::Provisioning;
        if !cluster.initialised() {
            if !provisioning {
                // Never made afresh over a database that held data: its disk lost it.
                return Err(DatabaseError::step(
                    "starting the server",
                    "its data directory is missing from its data disk",
                ));
            }
            cluster.initdb(&self.config.sandbox, &superuser).await?;
        }
        cluster
            .configure(&db.owner_role, &db.database_name)
            .map_err(|e| DatabaseError::step("writing its configuration", e))?;
        let mut started = cluster
            .start(&self.config.sandbox, &supervise::run_name(&cluster))
            .await?;
        let mut admin = cluster.ready(&superuser, &mut started).await?;
        if provisioning {
            let password = self.open(db, &db.password_sealed, "password")?;
            crate::roles::create_tenant_role(&mut admin, db, &password).await?;
            self.record(&db.id, DatabaseStatus::Running, None, None).await;
        }
        drop(admin);
        Ok((cluster, started))
    }

    /// The workspace's storage limit in bytes: its disk is mounted with it.
    pub(crate) async fn storage_limit(&self, db: &Database) -> Result<u64, DatabaseError> {
        let mut tx = self.config.store.read().await?;
        let scope = tx
            .worker_scope(&db.tenant_id)
            .await?
            .ok_or_else(|| DatabaseError::step("mounting its data disk", "its workspace is gone"))?;
        let gib = tx.storage_gb_limit(&scope).await?;
        SqliteStore::commit(tx).await?;
        Ok(u64::try_from(gib).unwrap_or(0) << 30)
    }

    async fn record(&self, id: &DatabaseId, status: DatabaseStatus, error: Option<String>, exit: Option<String>) {
        let state = DatabaseState {
            status,
            error,
            last_exit_reason: exit,
        };
        let done = async {
            let mut tx = self.config.store.write().await?;
            tx.set_database_state(id, &state).await?;
            SqliteStore::commit(tx).await
        };
        if let Err(e) = done.await {
            tracing::error!(database = %id, error = %e, "a database's status could not be stored");
        }
    }
}
