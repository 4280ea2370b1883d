//! A workspace's log bytes in all (`--log-bytes-per-workspace`). Every stream counts against
//! the workspace that owns it (`log_streams`); once a workspace holds more than its bound, its
//! oldest lines go first, oldest stream first, down to nine tenths of the bound (so a workspace
//! at its bound is trimmed now and then, not at every batch). Each stream keeps its newest
//! line, so its `seq` carries on; a read below what is kept says `truncatedBefore`.

use super::{ROW_BYTES, stream_owner};
use crate::{Result, SqliteStore};
use futures_util::TryStreamExt;
use sqlx::SqlitePool;
use std::collections::HashMap;

/// Bytes one trim frees at most (more than one batch of the writer can add).
const TRIM_STEP: u64 = 64 << 20;
/// Streams whose owner is remembered; past this the memory is cleared (`log_streams` and the
/// store still know).
const REMEMBERED: usize = 10_000;

/// Each workspace's log bytes and where its streams' owners are looked up.
#[derive(Clone)]
pub struct WorkspaceBound {
    /// The main store, which knows whose a deployment, release or environment is.
    pub store: SqliteStore,
    /// Bytes of line text one workspace's logs may hold.
    pub bytes: u64,
}

/// The writer's side of the accounts.
pub(super) struct Accounts {
    bound: Option<WorkspaceBound>,
    // stream → its workspace (None: nobody's, its owner is gone).
    owners: HashMap<String, Option<String>>,
}

impl Accounts {
    pub(super) fn new(bound: Option<WorkspaceBound>) -> Self {
        Self {
            bound,
            owners: HashMap::new(),
        }
    }

    /// `stream` belongs to `tenant` (said by whoever writes it before its owner's row exists,
    /// as a rollback's instances do).
    pub(super) fn claim(&mut self, stream: String, tenant: String) {
        self.remember(stream, Some(tenant));
    }

    fn remember(&mut self, stream: String, tenant: Option<String>) {
        if self.owners.len() >= REMEMBERED {
            self.owners.clear();
        }
        self.owners.insert(stream, tenant);
    }

    /// The workspace `stream` counts against: claimed, recorded, or its owner's.
    async fn tenant(&mut self, pool: &SqlitePool, stream: &str) -> Result<Option<String>> {
        if let Some(known) = self.owners.get(stream) {
            return Ok(known.clone());
        }
        let recorded: Option<String> = sqlx::query_scalar("SELECT tenant FROM log_streams WHERE stream = ?")
            .bind(stream.to_owned())
            .fetch_optional(pool)
            .await?;
        let tenant = match (recorded, &self.bound, stream_owner(stream)) {
            (Some(tenant), _, _) => Some(tenant),
            (None, Some(bound), Some(owner)) => bound.store.owning_tenant(owner).await?,
            _ => None,
        };
        self.remember(stream.to_owned(), tenant.clone());
        Ok(tenant)
    }

    /// The workspaces of `streams` (those that have one), resolved before their lines are
    /// committed, so the lines and their count go in one transaction.
    pub(super) async fn owners<'a>(
        &mut self,
        pool: &SqlitePool,
        streams: impl Iterator<Item = &'a str>,
    ) -> HashMap<String, String> {
        let mut owners = HashMap::new();
        if self.bound.is_none() {
            return owners;
        }
        for stream in streams {
            if owners.contains_key(stream) {
                continue;
            }
            match self.tenant(pool, stream).await {
                Ok(Some(tenant)) => {
                    owners.insert(stream.to_owned(), tenant);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(stream, error = %e, "a log's workspace could not be looked up"),
            }
        }
        owners
    }

    /// Trims each of `tenants` that passed its bound: at most `TRIM_STEP` bytes a call, so
    /// the writer goes on with others' lines between steps.
    pub(super) async fn enforce(&self, pool: &SqlitePool, tenants: impl Iterator<Item = &String>) -> Result<()> {
        let Some(bound) = &self.bound else { return Ok(()) };
        for tenant in tenants {
            let held: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(bytes), 0) FROM log_streams WHERE tenant = ?")
                .bind(tenant.clone())
                .fetch_one(pool)
                .await?;
            let held = u64::try_from(held).unwrap_or(0);
            if held > bound.bytes {
                let excess = held - bound.bytes / 10 * 9;
                trim(pool, tenant, excess.min(TRIM_STEP)).await?;
            }
        }
        Ok(())
    }
}

/// Counts `bytes` (of the lines just inserted in `tx`) against `stream`'s workspace `tenant`;
/// a stream counted for the first time is counted for every line it holds.
pub(super) async fn count(tx: &mut sqlx::SqliteConnection, stream: &str, tenant: &str, bytes: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO log_streams (stream, tenant, bytes)
         VALUES (?1, ?2, (SELECT COALESCE(SUM(LENGTH(CAST(line AS BLOB)) + ?4), 0) FROM log_lines WHERE stream = ?1))
         ON CONFLICT (stream) DO UPDATE SET bytes = bytes + ?3",
    )
    .bind(stream.to_owned())
    .bind(tenant.to_owned())
    .bind(bytes)
    .bind(ROW_BYTES)
    .execute(tx)
    .await?;
    Ok(())
}

/// Deletes at least `excess` bytes of `tenant`'s oldest lines (as far as there are lines that
/// are not their stream's newest), oldest stream first.
async fn trim(pool: &SqlitePool, tenant: &str, excess: u64) -> Result<()> {
    let streams: Vec<String> = sqlx::query_scalar(
        "SELECT s.stream FROM log_streams s WHERE s.tenant = ? AND s.bytes > 0
         ORDER BY (SELECT l.at FROM log_lines l WHERE l.stream = s.stream ORDER BY l.seq LIMIT 1)",
    )
    .bind(tenant.to_owned())
    .fetch_all(pool)
    .await?;
    let mut left = excess;
    for stream in streams {
        if left == 0 {
            break;
        }
        let mut tx = pool.begin().await?;
        let (mut last, mut freed) = (None, 0u64);
        {
            let mut lines = sqlx::query_as::<_, (i64, i64)>(
                "SELECT seq, LENGTH(CAST(line AS BLOB)) + ?2 FROM log_lines
                 WHERE stream = ?1 AND seq < (SELECT MAX(seq) FROM log_lines WHERE stream = ?1) ORDER BY seq",
            )
            .bind(stream.clone())
            .bind(ROW_BYTES)
            .fetch(&mut *tx);
            while freed < left
                && let Some((seq, bytes)) = lines.try_next().await?
            {
                last = Some(seq);
                freed += u64::try_from(bytes).unwrap_or(0);
            }
        }
        if let Some(last) = last {
            sqlx::query("DELETE FROM log_lines WHERE stream = ? AND seq <= ?")
                .bind(stream.clone())
                .bind(last)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE log_streams SET bytes = MAX(0, bytes - ?) WHERE stream = ?")
            .bind(i64::try_from(freed).unwrap_or(i64::MAX))
            .bind(stream.clone())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        left = left.saturating_sub(freed);
        if last.is_some() {
            tracing::info!(%tenant, %stream, freed, "the workspace's logs passed their bound; oldest lines removed");
        }
    }
    Ok(())
}
