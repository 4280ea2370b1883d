//! The daily schedule: at `--backup-at` (server time) every database gets its daily backup —
//! a running one is backed up, a stopped or failed one gets a `failed` daily naming why it was
//! skipped, never silence; a server that was down at that time takes the day's when it starts;
//! a database made after it waits for the next day's — and the newest `--backup-retention` completed dailies are kept
//! (manual backups and the backups restores took stay until deleted). `plan` takes the time
//! as an argument, so tests drive it with a clock of their own.

use crate::backup::{key_context, sealed};
use chrono::{NaiveDateTime, NaiveTime};
use shipyard_core::{BackupId, BackupKind, DatabaseId, DatabaseStatus, JobStatus, SecretBox};
use shipyard_store::{Backup, BackupUpdate, Backups, Databases, Jobs, Result};

/// When daily backups are taken and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The time of day (server time) a day's backups are due from.
    pub at: NaiveTime,
    /// Completed daily backups kept per database.
    pub retention: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            at: NaiveTime::from_hms_opt(3, 0, 0).unwrap_or(NaiveTime::MIN),
            retention: 7,
        }
    }
}

/// What one run of the schedule did.
#[derive(Debug, Default)]
pub struct Planned {
    /// Daily backups queued (`pending`).
    pub queued: Vec<Backup>,
    /// Daily backups recorded as skipped (`failed`: the database was not running).
    pub skipped: Vec<Backup>,
    /// Backups past the retention, whose rows are gone: their files go next.
    pub pruned: Vec<Backup>,
}

/// Parses `HH:MM` (24-hour).
pub fn parse_at(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

/// Runs the schedule as of `now` (server time) in `tx`: today's dailies once `at` has passed,
/// then the retention.
pub async fn plan<T>(tx: &mut T, now: NaiveDateTime, schedule: &Schedule, secret_box: &SecretBox) -> Result<Planned>
where
    T: Backups + Databases + Jobs + Send,
{
    let mut planned = Planned::default();
    let every = tx.databases_in(&DatabaseStatus::ALL).await?;
    let due = (now.time() >= schedule.at).then(|| now.date().format("%Y-%m-%d").to_string());
    let due_from = now.date().and_time(schedule.at);
    for db in &every {
        // A database made after today's time waits for tomorrow's: its first daily is never
        // taken the moment it is made.
        let made_before = db.created_at.with_timezone(&chrono::Local).naive_local() < due_from;
        if let Some(day) = due.as_ref().filter(|_| made_before) {
            let Some(scope) = tx.worker_scope(&db.tenant_id).await? else {
                continue;
            };
            let id = BackupId::generate();
            let key = secret_box.seal(&sealed::new_key(), &key_context(&id));
            let made = tx
                .create_backup(&scope, &db.id, &id, BackupKind::Daily, &key, Some(day))
                .await?;
            match made {
                Some(backup) if db.status == DatabaseStatus::Running => planned.queued.push(backup),
                Some(backup) => {
                    let why = format!(
                        "skipped: the database was {} at the scheduled time ({day} {})",
                        db.status.as_str(),
                        schedule.at.format("%H:%M")
                    );
                    let update = BackupUpdate {
                        status: JobStatus::Failed,
                        size_bytes: None,
                        error: Some(why),
                        fingerprint: None,
                        verified: None,
                    };
                    if let Some(done) = tx.update_backup(&backup.id, &update).await? {
                        planned.skipped.push(done);
                    }
                }
                None => {}
            }
        }
        planned.pruned.extend(prune(tx, &db.id, schedule.retention).await?);
    }
    Ok(planned)
}

/// Removes the rows of `database`'s daily backups past the retention (run when a daily one
/// completes, and by every `plan`); the removed ones, whose files go next.
pub async fn prune<T>(tx: &mut T, database: &DatabaseId, retention: u32) -> Result<Vec<Backup>>
where
    T: Backups + Send,
{
    let beyond = tx.dailies_beyond(database, retention).await?;
    for old in &beyond {
        tx.delete_backup(&old.tenant_id, &old.id).await?;
    }
    Ok(beyond)
}
