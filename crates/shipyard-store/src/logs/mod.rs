//! The log bus: lines are appended with the next `seq` of their stream by one batching writer
//! into `logs.db`, and every commit wakes followers, who always read from the store after
//! their cursor, so a slow or reconnecting follower never misses or repeats a line.

mod accounts;
mod room;
#[cfg(test)]
mod tests;
mod writer;

pub use accounts::WorkspaceBound;
pub use writer::LogWriter;

use crate::Result;
use crate::sqlite::rows::{parse_ts, ts};
use chrono::Utc;
use shipyard_tasks::Tasks;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The stream of a deployment's build log.
pub fn build_stream(deployment: &shipyard_core::DeploymentId) -> String {
    format!("build:{deployment}")
}

/// The stream of a one-off command's output (`shipyard run`).
pub fn run_stream(run: &shipyard_core::RunId) -> String {
    format!("run:{run}")
}

/// The stream of a release's runtime log (its instances' output and the supervisor's lines).
pub fn runtime_stream(release: &shipyard_core::ReleaseId) -> String {
    format!("runtime:{release}")
}

/// The stream of an environment's access log (each line one entry as JSON).
pub fn access_stream(environment: &str) -> String {
    format!("access:{environment}")
}

/// What a stream belongs to, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOwner<'a> {
    /// A build log's deployment (`dep_…`).
    Deployment(&'a str),
    /// A runtime log's release (`rel_…`).
    Release(&'a str),
    /// An access log's environment (`env_…`).
    Environment(&'a str),
}

/// The owner `stream` names (None for a name no stream has).
pub fn stream_owner(stream: &str) -> Option<StreamOwner<'_>> {
    let (kind, id) = stream.split_once(':')?;
    match kind {
        "build" => Some(StreamOwner::Deployment(id)),
        "runtime" => Some(StreamOwner::Release(id)),
        "access" => Some(StreamOwner::Environment(id)),
        _ => None,
    }
}

/// Lines a runtime or access log keeps: the newest, and none older than `KEEP_FOR`.
pub const KEEP_LINES: i64 = 100_000;
/// What a stored line costs besides its text (its row: stream, seq, time, kind), so that even
/// empty lines count against a bound.
pub const ROW_BYTES: i64 = 64;

/// Bytes of line text one read returns at most (past its first line): a page of the longest
/// lines stops early, and the caller's cursor carries on from its last line.
pub const PAGE_BYTES: usize = 1 << 20;
/// How long a runtime or access log line is kept.
pub const KEEP_FOR: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Whether `stream` is pruned by `KEEP_LINES` and `KEEP_FOR` (build logs live as long as their
/// deployment).
fn retained(stream: &str) -> bool {
    stream.starts_with("runtime:") || stream.starts_with("access:")
}

pub use shipyard_core::log_line::{LogKind, LogLine};

/// The log store and its notifier.
#[derive(Clone)]
pub struct LogStore {
    pool: SqlitePool,
    changes: watch::Sender<u64>,
    writer: LogWriter,
    ending: Arc<AtomicBool>,
    bound: Option<WorkspaceBound>,
    // The writer and the pruner, ended by `close`.
    tasks: Tasks,
}

impl LogStore {
    /// Opens (creating) `logs.db` and starts its writer, with no bound per workspace.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_bounded(path, None).await
    }

    /// Opens (creating) `logs.db` and starts its writer and hourly pruner, holding each
    /// workspace's logs within `bound` when there is one. Both are this store's own tasks, which
    /// `close` ends: the writer outlives every producer of lines (the server's other tasks end
    /// first), so nothing queued is lost.
    pub async fn open_bounded(path: &Path, bound: Option<WorkspaceBound>) -> Result<Self> {
        let tasks = Tasks::new();
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/logs").run(&pool).await?;
        let (changes, _) = watch::channel(0);
        let writer = LogWriter::start(pool.clone(), changes.clone(), bound.clone(), &tasks);
        let store = Self {
            pool,
            changes,
            writer,
            ending: Arc::new(AtomicBool::new(false)),
            bound,
            tasks: tasks.clone(),
        };
        // Pruned once here, before anyone reads, then hourly; the task's first tick is an hour
        // out, so it never races a caller of `prune_old`.
        store.prune_old().await?;
        let pruner = store.clone();
        tasks.spawn_until_stopping("log pruner", async move {
            let hour = Duration::from_secs(3600);
            let mut every = tokio::time::interval_at(tokio::time::Instant::now() + hour, hour);
            loop {
                every.tick().await;
                if let Err(e) = pruner.prune_old().await {
                    tracing::warn!(error = %e, "old log lines could not be pruned");
                }
                if let Err(e) = pruner.sweep_orphans().await {
                    tracing::warn!(error = %e, "log streams of deleted owners could not be removed");
                }
            }
        });
        Ok(store)
    }

    /// The writer that appends to this store.
    pub fn writer(&self) -> LogWriter {
        self.writer.clone()
    }

    /// Lines of `stream` after `after`: at most `limit`, and no more once they hold
    /// `PAGE_BYTES` of text (at least one line, so a cursor always moves).
    pub async fn read(&self, stream: &str, after: i64, limit: i64) -> Result<Vec<LogLine>> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, (i64, String, String, String)>(
            "SELECT seq, at, kind, line FROM log_lines WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(stream.to_owned())
        .bind(after)
        .bind(limit)
        .fetch(&self.pool);
        let (mut lines, mut bytes) = (Vec::new(), 0);
        while bytes < PAGE_BYTES
            && let Some((seq, at, kind, line)) = rows.try_next().await?
        {
            bytes += line.len();
            lines.push(LogLine {
                seq,
                at: parse_ts(&at)?,
                stream: LogKind::parse(&kind),
                line,
            });
        }
        Ok(lines)
    }

    /// The lowest seq `stream` still keeps (None when it holds nothing).
    pub async fn first_seq(&self, stream: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(seq) FROM log_lines WHERE stream = ?")
            .bind(stream.to_owned())
            .fetch_one(&self.pool)
            .await?)
    }

    /// `Some(oldest kept seq)` when a read after `after` skips lines retention removed.
    pub async fn truncated_before(&self, stream: &str, after: i64) -> Result<Option<i64>> {
        Ok(self
            .first_seq(stream)
            .await?
            .filter(|first| *first > after.saturating_add(1)))
    }

    /// Removes runtime and access log lines older than `KEEP_FOR`, keeping each stream's
    /// newest line so its `seq` carries on after a restart.
    pub async fn prune_old(&self) -> Result<u64> {
        const OLD: &str = "(stream LIKE 'runtime:%' OR stream LIKE 'access:%') AND at < ?1
               AND seq < (SELECT MAX(l.seq) FROM log_lines l WHERE l.stream = log_lines.stream)";
        let cutoff = crate::sqlite::rows::ts(Utc::now() - KEEP_FOR);
        let mut tx = self.pool.begin().await?;
        // What each stream loses, taken off its workspace's count first.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE log_streams SET bytes = MAX(0, bytes - COALESCE((SELECT SUM(LENGTH(CAST(line AS BLOB)) + ?2)
               FROM log_lines WHERE log_lines.stream = log_streams.stream AND {OLD}), 0))"
        )))
        .bind(cutoff.clone())
        .bind(ROW_BYTES)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM log_lines WHERE {OLD}")))
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(gone)
    }

    /// Removes the streams whose deployment, release or environment no longer exists (a line
    /// an instance printed as it stopped can land after its release was deleted); how many.
    pub async fn sweep_orphans(&self) -> Result<usize> {
        let Some(bound) = &self.bound else { return Ok(0) };
        // Quiet for an hour: a rollback's instances write before its release is recorded.
        let quiet_since = crate::sqlite::rows::ts(Utc::now() - chrono::TimeDelta::hours(1));
        let streams: Vec<String> = sqlx::query_scalar(
            "SELECT s.stream FROM log_streams s
             WHERE COALESCE((SELECT MAX(l.at) FROM log_lines l WHERE l.stream = s.stream), '') < ?",
        )
        .bind(quiet_since)
        .fetch_all(&self.pool)
        .await?;
        let mut gone = 0;
        for stream in streams {
            let Some(owner) = stream_owner(&stream) else { continue };
            match bound.store.owning_tenant(owner).await {
                Ok(Some(_)) => {}
                Ok(None) => match self.delete_stream(&stream).await {
                    Ok(()) => gone += 1,
                    Err(e) => tracing::warn!(%stream, error = %e, "a deleted owner's log could not be removed"),
                },
                Err(e) => tracing::warn!(%stream, error = %e, "a log's owner could not be looked up"),
            }
        }
        Ok(gone)
    }

    /// The highest seq of `stream` (0 when empty).
    pub async fn last_seq(&self, stream: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE stream = ?")
                .bind(stream.to_owned())
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Stores every line queued so far and ends the writer and the pruner (at shutdown, once
    /// nothing else writes); waits at most `limit`.
    pub async fn close(&self, limit: Duration) {
        self.tasks.stop_and_wait(limit).await;
    }

    /// Ends every follower's stream (the server is shutting down; clients resume elsewhere
    /// with `Last-Event-ID`), so open streams do not hold the shutdown up.
    pub fn end_followers(&self) {
        self.ending.store(true, Ordering::Relaxed);
        self.changes.send_modify(|n| *n += 1);
    }

    /// Whether followers should end (see `end_followers`).
    pub fn ending(&self) -> bool {
        self.ending.load(Ordering::Relaxed)
    }

    /// A receiver that changes whenever lines are committed or a status changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Wakes followers (after something they show besides lines changed, such as a status).
    pub fn notify(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Deletes a stream (its deployment, release or environment is gone).
    pub async fn delete_stream(&self, stream: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM log_lines WHERE stream = ?",
            "DELETE FROM log_streams WHERE stream = ?",
        ] {
            sqlx::query(sql).bind(stream.to_owned()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

pub(crate) fn insert_sql() -> &'static str {
    "INSERT INTO log_lines (stream, seq, at, kind, line) VALUES (?, ?, ?, ?, ?)"
}

pub(crate) fn now_text() -> String {
    ts(Utc::now())
}
