//! Taking a backup: `pg_dump -Fc` of the server's own major, from a snapshot the platform
//! exported and holds, streamed into the sealed file; the source's fingerprint is read in the
//! same snapshot, so the proof compares the copy with exactly what was dumped.

use super::On;
use super::fingerprint::{self, Fingerprint};
use super::sealed::SealedWriter;
use crate::conf::SUPERUSER;
use crate::error::DatabaseError;
use crate::tools::{Login, Tool};
use sqlx::Executor;
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// How long one dump may take, whole.
const DUMP_WITHIN: Duration = Duration::from_secs(2 * 60 * 60);
/// How long pg_dump waits for a table's lock (a tenant's session holding one ends the backup,
/// never the worker).
const LOCK_WAIT: Duration = Duration::from_secs(60);

/// What a dump wrote.
pub(crate) struct Dumped {
    /// Bytes of the dump (what a download hands out).
    pub size: u64,
    /// The source as of the dump's snapshot.
    pub source: Fingerprint,
}

/// Dumps `database` of `cluster` into a new sealed file at `into` (at most `max_bytes` of
/// dump), reading the source's fingerprint in the dump's snapshot.
pub(crate) async fn dump(
    on: &On<'_>,
    database: &str,
    into: &Path,
    key: &[u8],
    max_bytes: u64,
) -> Result<Dumped, DatabaseError> {
    let step = "dumping it";
    let mut conn = connect(on, database).await?;
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| DatabaseError::step(step, e))?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_catalog.pg_export_snapshot()")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| DatabaseError::step(step, e))?;
    // Read first, in the snapshot pg_dump then dumps: this transaction's locks keep every table
    // it read as it was until the dump has them too.
    let source = fingerprint::read(&mut conn)
        .await
        .map_err(|e| DatabaseError::step("reading the source's fingerprint", e))?;
    let args = vec![
        "--format=custom".into(),
        format!("--snapshot={snapshot}").into(),
        format!("--dbname={database}").into(),
        format!("--lock-wait-timeout={}", LOCK_WAIT.as_millis()).into(),
        "--no-password".into(),
    ];
    let login = Login {
        user: SUPERUSER,
        password: on.superuser,
    };
    let mut tool = on
        .cluster
        .spawn_tool(on.sandbox, step, "pg_dump", args, login, None)
        .await?;
    let deadline = tokio::time::Instant::now() + DUMP_WITHIN;
    let written = tokio::time::timeout_at(deadline, copy_out(&mut tool, into, key, max_bytes))
        .await
        .unwrap_or_else(|_| {
            Err(DatabaseError::step(
                step,
                format!("it did not finish within {} minutes", DUMP_WITHIN.as_secs() / 60),
            ))
        });
    let ended = tool
        .finish(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await;
    let size = written?;
    ended?;
    let _ = conn.execute("ROLLBACK").await;
    Ok(Dumped { size, source })
}

/// How long a backup waits for its database's server to take connections (a server that was
/// just started, or restarted after a crash, is still coming up).
const SERVER_UP_WITHIN: Duration = Duration::from_secs(120);

/// The platform's connection to `database`, once its server takes it (bounded).
async fn connect(on: &On<'_>, database: &str) -> Result<sqlx::PgConnection, DatabaseError> {
    let began = tokio::time::Instant::now();
    loop {
        match on.cluster.admin_to(on.superuser, database).await {
            Ok(conn) => return Ok(conn),
            Err(e) if began.elapsed() >= SERVER_UP_WITHIN => {
                return Err(DatabaseError::step(
                    "dumping it",
                    format!(
                        "its server did not take a connection within {} s: {e}",
                        SERVER_UP_WITHIN.as_secs()
                    ),
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Streams the tool's stdout into a sealed file at `into`.
async fn copy_out(tool: &mut Tool, into: &Path, key: &[u8], max_bytes: u64) -> Result<u64, DatabaseError> {
    let step = "writing the backup file";
    let fail = |e: super::sealed::SealedError| DatabaseError::step(step, e);
    let mut out = tool
        .child
        .stdout
        .take()
        .ok_or_else(|| DatabaseError::step(step, "the dump's output was not piped"))?;
    let mut file = SealedWriter::create(into, key).await.map_err(fail)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = out.read(&mut buf).await.map_err(|e| DatabaseError::step(step, e))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > max_bytes {
            return Err(DatabaseError::step(
                step,
                format!(
                    "the dump grew past {} MiB, more than its data disk holds",
                    max_bytes >> 20
                ),
            ));
        }
        file.write(&buf[..n]).await.map_err(fail)?;
    }
    file.finish().await.map_err(fail)
}
