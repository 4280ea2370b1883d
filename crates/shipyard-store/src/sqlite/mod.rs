//! The SQLite backend: one database file in WAL mode, migrations embedded in the binary.

mod attachments;
mod backups;
mod certificates;
mod connections;
mod databases;
mod deployment_rows;
mod deployments;
mod domains;
mod environments;
mod jobs;
mod members;
mod project_rows;
mod projects;
mod releases;
mod restores;
mod routes;
pub(crate) mod rows;
mod secrets;
mod sessions;
mod tenants;
mod tokens;
mod users;

use crate::traits::Backend;
use crate::{Result, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
use std::path::Path;
use std::time::Duration;

/// A SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// An open SQLite transaction; implements every storage trait.
pub struct Tx(Transaction<'static, Sqlite>);

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Writers queue on the write lock; five seconds covers any single write by far.
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Closes every connection, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Backend for SqliteStore {
    type Tx = Tx;

    async fn read(&self) -> Result<Tx> {
        Ok(Tx(self.pool.begin().await?))
    }

    async fn write(&self) -> Result<Tx> {
        Ok(Tx(self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    async fn commit(tx: Tx) -> Result<()> {
        tx.0.commit().await.map_err(StoreError::Database)
    }
}

impl SqliteStore {
    /// The workspace that owns `owner` (a deployment, release or environment), if it exists:
    /// whose budget its log stream counts against.
    pub async fn owning_tenant(&self, owner: crate::logs::StreamOwner<'_>) -> Result<Option<String>> {
        use crate::logs::StreamOwner;
        let sql = match owner {
            StreamOwner::Deployment(_) => "SELECT tenant_id FROM deployments WHERE id = ?",
            StreamOwner::Release(_) => "SELECT tenant_id FROM releases WHERE id = ?",
            StreamOwner::Environment(_) => "SELECT tenant_id FROM environments WHERE id = ?",
        };
        let (StreamOwner::Deployment(id) | StreamOwner::Release(id) | StreamOwner::Environment(id)) = owner;
        Ok(sqlx::query_scalar(sql)
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?)
    }
}
