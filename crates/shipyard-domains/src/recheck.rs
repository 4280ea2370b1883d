//! The background re-check: every few minutes while a domain does not point here and hourly
//! after, so the reason a domain is not live stays current without anyone asking.

use crate::here::{Here, next_check};
use chrono::{DateTime, Utc};
use shipyard_store::{Backend, Domains, DueDomain, SqliteStore};
use shipyard_tasks::Tasks;
use std::time::Duration;
use tracing::Instrument;

/// Longest sleep of the re-check between looks at the store.
const TICK: Duration = Duration::from_secs(30);
/// Domains looked at in one pass, at most (the rest wait for the next).
const BATCH: i64 = 20;

/// Runs the background re-check on `tasks` until they stop.
pub fn spawn(tasks: &Tasks, store: SqliteStore, here: Here) {
    tasks.spawn_until_stopping("domain re-check", async move {
        loop {
            match recheck_due(&store, &here, Utc::now()).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "the domain re-check could not read the store"),
            }
            tokio::select! {
                () = tokio::time::sleep(TICK) => {}
                () = here.wake.notified() => {}
            }
        }
    });
}

/// Looks at every domain due at `now` (up to a batch); how many it looked at.
pub async fn recheck_due(store: &SqliteStore, here: &Here, now: DateTime<Utc>) -> shipyard_store::Result<usize> {
    let due = store.read().await?.due_domains(now, BATCH).await?;
    for one in &due {
        let span = tracing::info_span!("domain re-check", domain = %one.domain.id);
        recheck_one(store, here, one).instrument(span).await?;
    }
    Ok(due.len())
}

async fn recheck_one(store: &SqliteStore, here: &Here, due: &DueDomain) -> shipyard_store::Result<()> {
    let live = here.live_host(&due.host_label, &due.workspace_slug);
    let look = here.look(&due.domain.hostname, &due.domain.challenge, &live).await;
    let mut tx = store.write().await?;
    tx.record_dns(&due.domain.id, &look.dns, next_check(Utc::now(), look.dns.points_here))
        .await?;
    SqliteStore::commit(tx).await
}
