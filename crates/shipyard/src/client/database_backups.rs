//! `databases backups list|create|download|restore|verify`.

use super::context::Context;
use super::database_args::BackupsCommand;
use super::failure::Failure;
use super::output::{self, ago, text};
use super::projects::all;
use shipyard_client::types::backups::{BackupView, CreateRestoreRequest, RestoreView};
use shipyard_core::{JobStatus, RestoreTarget};
use std::io::Write;
use std::time::Duration;

/// How long `create` and `restore` wait for their job.
const WAIT_AT_MOST: Duration = Duration::from_secs(3 * 60 * 60);

/// `databases backups …`.
pub async fn run(ctx: &Context, command: BackupsCommand) -> Result<(), Failure> {
    match command {
        BackupsCommand::List { database } => {
            let db = super::databases::named(ctx, &database).await?;
            let items = all(|paging| ctx.ws.backups(&db.id, paging)).await?;
            output::list(
                ctx.json,
                &items,
                &["ID", "KIND", "STATUS", "SIZE", "PROVEN", "CREATED"],
                |b| {
                    vec![
                        text(&b.id),
                        text(&b.kind.as_str()),
                        text(&b.status.as_str()),
                        b.size_bytes.map_or_else(|| "-".to_owned(), |s| s.to_string()),
                        b.verification
                            .as_ref()
                            .map_or_else(|| "-".to_owned(), |v| format!("{} tables, {} rows", v.tables, v.rows)),
                        ago(&b.created_at),
                    ]
                },
            );
        }
        BackupsCommand::Create { database, no_wait } => {
            let db = super::databases::named(ctx, &database).await?;
            let mut backup = ctx.ws.create_backup(&db.id).await?;
            if !no_wait {
                backup = wait(|| ctx.ws.backup(&db.id, &backup.id), |b: &BackupView| b.status).await?;
            }
            shown(ctx, &backup, backup.error.as_deref())?;
        }
        BackupsCommand::Download {
            database,
            backup,
            output: to,
        } => {
            let db = super::databases::named(ctx, &database).await?;
            let mut response = ctx.ws.download_backup(&db.id, &backup).await?;
            let to = to.unwrap_or_else(|| format!("{}-{backup}.dump", db.name).into());
            // The CLI's own process: plain blocking writes between chunks are what it waits on.
            let mut out: Box<dyn std::io::Write> = if to.as_os_str() == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                let file = std::fs::File::create(&to)
                    .map_err(|e| Failure::Other(format!("cannot write {}: {e}", to.display())))?;
                Box::new(std::io::BufWriter::new(file))
            };
            let mut written = 0u64;
            let failed = |e: &dyn std::fmt::Display| Failure::Other(format!("the download was cut: {e}"));
            while let Some(chunk) = response.chunk().await.map_err(|e| failed(&e))? {
                out.write_all(&chunk).map_err(|e| failed(&e))?;
                written += chunk.len() as u64;
            }
            out.flush().map_err(|e| failed(&e))?;
            if to.as_os_str() != "-" {
                eprintln!("Wrote {written} bytes to {} (pg_restore reads it).", to.display());
            }
        }
        BackupsCommand::Restore {
            database,
            backup,
            target,
            name,
            no_wait,
        } => {
            let db = super::databases::named(ctx, &database).await?;
            let target = RestoreTarget::parse(&target)
                .ok_or_else(|| Failure::Usage(format!("--target is `new` or `same`, not `{target}`")))?;
            let req = CreateRestoreRequest {
                target: Some(target),
                name,
            };
            let mut restore = ctx.ws.restore_backup(&db.id, &backup, &req).await?;
            if !no_wait {
                restore = wait(|| ctx.ws.restore(&db.id, &restore.id), |r: &RestoreView| r.status).await?;
            }
            restored(ctx, &restore)?;
        }
        BackupsCommand::Verify { database, backup } => {
            let db = super::databases::named(ctx, &database).await?;
            let proven = ctx.ws.verify_backup(&db.id, &backup).await?;
            shown(ctx, &proven, proven.error.as_deref())?;
        }
    }
    Ok(())
}

/// Polls `read` until the job's status has ended (bounded).
async fn wait<T, F, Fut>(read: F, status: impl Fn(&T) -> JobStatus) -> Result<T, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, shipyard_client::ClientError>>,
{
    let began = tokio::time::Instant::now();
    loop {
        let now = read().await?;
        if matches!(status(&now), JobStatus::Completed | JobStatus::Failed) {
            return Ok(now);
        }
        if began.elapsed() >= WAIT_AT_MOST {
            return Err(Failure::GaveUp(format!(
                "still {} after {} minutes; it goes on",
                status(&now).as_str(),
                WAIT_AT_MOST.as_secs() / 60
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn shown(ctx: &Context, b: &BackupView, error: Option<&str>) -> Result<(), Failure> {
    if ctx.json {
        output::json(b);
    } else {
        let proof = b.verification.as_ref().map_or_else(String::new, |v| {
            format!(", proven by a restore: {} tables, {} rows", v.tables, v.rows)
        });
        println!("Backup {} is {}{proof}.", text(&b.id), b.status.as_str());
    }
    match (b.status, error) {
        (JobStatus::Failed, why) => Err(Failure::Other(format!(
            "backup {} failed: {}",
            b.id,
            why.unwrap_or("no reason given")
        ))),
        _ => Ok(()),
    }
}

fn restored(ctx: &Context, r: &RestoreView) -> Result<(), Failure> {
    if ctx.json {
        output::json(r);
    } else {
        let into = r.target_database_id.as_deref().unwrap_or("-");
        println!("Restore {} into {} is {}.", text(&r.id), text(&into), r.status.as_str());
        if let Some(before) = &r.before_backup_id {
            println!("What it replaced is backup {} (restore it to undo).", text(before));
        }
    }
    match r.status {
        JobStatus::Failed => Err(Failure::Other(format!(
            "restore {} failed: {}",
            r.id,
            r.error.as_deref().unwrap_or("no reason given")
        ))),
        _ => Ok(()),
    }
}
