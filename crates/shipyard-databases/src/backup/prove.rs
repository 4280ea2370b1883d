//! Restoring a sealed backup with `pg_restore` of the server's own major, fed through a pipe
//! (so no plain dump ever touches a disk), and the proof: a restore into a scratch database of
//! the same server, compared with the source's fingerprint, then dropped.

use super::fingerprint::{self, Fingerprint};
use super::sealed::{SealedError, SealedReader};
use super::{On, Sealed};
use crate::error::DatabaseError;
use sqlx::Executor;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The step of a failed restore (pg_restore did not take the dump).
pub(crate) const RESTORING: &str = "restoring it";
/// The step of a proof whose copy differs from its source.
pub(crate) const PROVING: &str = "proving it";

/// How long one restore may take.
const RESTORE_WITHIN: Duration = Duration::from_secs(2 * 60 * 60);
/// Scratch databases are named with this and the backup's id; any left by an interrupted
/// proof is dropped before the next.
const SCRATCH: &str = "shipyard_proof_";

/// An identifier quoted for SQL.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// How a restore goes into its database.
pub(crate) struct Target<'a> {
    /// The database restored into.
    pub database: &'a str,
    /// Whether what the backup holds is dropped first (`--clean --if-exists`).
    pub clean: bool,
}

/// Restores `sealed` into `into`, in one transaction (all or nothing), logged in as the
/// tenant's role: a dump is the tenant's own SQL (functions in checks, defaults, indexes run as
/// it is restored), so it runs with the tenant's rights and nothing more.
pub(crate) async fn restore(on: &On<'_>, sealed: &Sealed<'_>, into: &Target<'_>) -> Result<(), DatabaseError> {
    let step = RESTORING;
    let unreadable = |source: SealedError| DatabaseError::Unreadable {
        id: sealed.backup.to_owned(),
        source,
    };
    // Opened first: a damaged or foreign file is named as such, before any restore starts.
    let mut reader = SealedReader::open(sealed.file, sealed.key).await.map_err(unreadable)?;
    let (read_end, write_end) = std::io::pipe().map_err(|e| DatabaseError::step(step, e))?;
    // The sandbox reopens the pipe through `/dev/fd`, which checks its owner: it is the
    // cluster's uid's to read.
    std::os::unix::fs::fchown(&read_end, Some(on.cluster.uid), Some(on.cluster.uid))
        .map_err(|e| DatabaseError::step(step, e))?;
    let mut args: Vec<std::ffi::OsString> = vec![
        format!("--dbname={}", into.database).into(),
        "--no-owner".into(),
        "--no-acl".into(),
        "--exit-on-error".into(),
        "--single-transaction".into(),
        "--no-password".into(),
    ];
    if into.clean {
        args.extend(["--clean".into(), "--if-exists".into()]);
    }
    let tool = on
        .cluster
        .spawn_tool(on.sandbox, step, "pg_restore", args, on.tenant, Some(read_end.into()))
        .await?;
    let mut pipe =
        tokio::net::unix::pipe::Sender::from_owned_fd(write_end.into()).map_err(|e| DatabaseError::step(step, e))?;
    let fed = async {
        while let Some(chunk) = reader.next_chunk().await.map_err(unreadable)? {
            // pg_restore stops reading when it fails: its own error says why.
            if pipe.write_all(&chunk).await.is_err() {
                break;
            }
        }
        drop(pipe);
        Ok::<(), DatabaseError>(())
    };
    let (fed, ended) = tokio::join!(fed, tool.finish(RESTORE_WITHIN));
    // A damaged file is the cause even when pg_restore then failed on its cut input.
    fed?;
    ended
}

/// Drops every scratch database an interrupted proof left: only names a proof makes (a
/// tenant's own database never has one: `shipyard…` names are kept for the platform).
async fn sweep(admin: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    let left: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_catalog.pg_database WHERE datname::text ~ $1")
            .bind(format!("^{SCRATCH}bkp_[0-9a-f]{{32}}$"))
            .fetch_all(&mut *admin)
            .await?;
    for name in left {
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quoted(&name)
            )))
            .await?;
    }
    Ok(())
}

/// Proves `sealed` against `source`: restored into a scratch database of the same server, its
/// fingerprint must equal the source's. (tables, rows) when it does; a sentence naming the
/// first table that differs (or the restore's error) when not.
pub(crate) async fn prove(on: &On<'_>, sealed: &Sealed<'_>, source: &Fingerprint) -> Result<(i64, i64), DatabaseError> {
    let fail = |e: sqlx::Error| DatabaseError::step("preparing the proof", e);
    let scratch = format!("{SCRATCH}{}", sealed.backup.to_lowercase());
    let mut admin = on.cluster.admin(on.superuser).await.map_err(fail)?;
    sweep(&mut admin).await.map_err(fail)?;
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {} TEMPLATE template0 OWNER {} STRATEGY FILE_COPY",
            quoted(&scratch),
            quoted(on.owner)
        )))
        .await
        .map_err(fail)?;
    let proven = async {
        let target = Target {
            database: &scratch,
            clean: false,
        };
        restore(on, sealed, &target).await?;
        let mut copy = on.cluster.admin_to(on.superuser, &scratch).await.map_err(fail)?;
        copy.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(fail)?;
        let restored = fingerprint::read(&mut copy).await.map_err(fail)?;
        drop(copy);
        match source.differs(&restored) {
            None => Ok((i64::try_from(source.tables.len()).unwrap_or(i64::MAX), source.rows())),
            Some(why) => Err(DatabaseError::step(PROVING, why)),
        }
    }
    .await;
    let dropped = sweep(&mut admin).await.map_err(fail);
    let result = proven?;
    dropped?;
    Ok(result)
}
