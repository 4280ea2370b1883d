//! The background re-check: every few minutes while a domain does not point here and hourly
//! after, so the reason a domain is not live stays current without anyone asking.

use crate::here::{Here, lapsed, next_check, proof_gone};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use shipyard_core::custom_domain::DomainStatus;
use shipyard_runtime::{Runtime, RuntimeError};
use shipyard_store::{Backend, Domain, Domains, DueDomain, SqliteStore};
use shipyard_tasks::Tasks;
use std::time::Duration;
use tracing::Instrument;

/// Longest sleep of the re-check between looks at the store.
const TICK: Duration = Duration::from_secs(30);
/// Domains looked at in one pass, at most (the rest wait for the next).
const BATCH: i64 = 20;
/// Domains of a pass looked at at once (a slow zone holds up only its own).
const AT_ONCE: usize = 4;

/// Runs the background re-check on `tasks` until they stop.
pub fn spawn(tasks: &Tasks, store: SqliteStore, runtime: Runtime, here: Here) {
    tasks.spawn_until_stopping("domain re-check", async move {
        loop {
            match recheck_due(&store, &runtime, &here, Utc::now()).await {
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

/// Looks at every domain due at `now` (up to a batch, a few at once); how many it looked at.
pub async fn recheck_due(
    store: &SqliteStore,
    runtime: &Runtime,
    here: &Here,
    now: DateTime<Utc>,
) -> shipyard_store::Result<usize> {
    let due = store.read().await?.due_domains(now, BATCH).await?;
    let looked = due.len();
    let mut each = futures_util::stream::iter(due)
        .map(|one| {
            let span = tracing::info_span!("domain re-check", domain = %one.domain.id);
            recheck_one(store, runtime, here, one).instrument(span)
        })
        .buffer_unordered(AT_ONCE);
    while let Some(done) = each.next().await {
        done?;
    }
    Ok(looked)
}

async fn recheck_one(
    store: &SqliteStore,
    runtime: &Runtime,
    here: &Here,
    due: DueDomain,
) -> shipyard_store::Result<()> {
    let live = here.live_host(&due.host_label, &due.workspace_slug);
    let domain = &due.domain;
    let Some(look) = here.look(&domain.hostname, &domain.challenge, &live).await else {
        return Ok(());
    };
    let now = Utc::now();
    let next = next_check(now, domain.created_at, look.dns.points_here);
    let mut tx = store.write().await?;
    tx.record_dns(&domain.id, &look.dns, next).await?;
    // A pending domain is proven only when its owner asks; a verified one keeps its proof.
    let lapsed = match (domain.status, &look.proof) {
        (DomainStatus::Verified, Ok(())) => {
            tx.record_proof(&domain.id, None, now).await?;
            None
        }
        (DomainStatus::Verified, Err(why)) => {
            let since = domain.proof_missing_since.unwrap_or(now);
            if lapsed(since, now) {
                Some(format!(
                    "unverified: the TXT record proving it was gone from {} to {} ({why}); add it again and verify",
                    since.format("%Y-%m-%d %H:%M UTC"),
                    now.format("%Y-%m-%d %H:%M UTC")
                ))
            } else {
                tx.record_proof(&domain.id, Some(&proof_gone(why, since)), now).await?;
                None
            }
        }
        _ => None,
    };
    SqliteStore::commit(tx).await?;
    if let Some(why) = lapsed {
        lapse(store, runtime, domain, &why).await?;
    }
    Ok(())
}

/// Unverifies `domain` and stops serving it, in one commit with its route.
async fn lapse(store: &SqliteStore, runtime: &Runtime, domain: &Domain, why: &str) -> shipyard_store::Result<()> {
    let mut lock = runtime.lock().await;
    let mut tx = store.write().await?;
    if tx.lapse_domain(&domain.id, why).await?.is_none() {
        return Ok(());
    }
    if let Err(RuntimeError::Store(e)) = lock.route_environment(&mut tx, &domain.environment_id).await {
        return Err(e);
    }
    match SqliteStore::commit(tx).await {
        Ok(()) => {
            lock.committed();
            tracing::info!(hostname = %domain.hostname, "a domain's proof stayed gone past its grace: unverified");
            Ok(())
        }
        Err(e) => {
            drop(lock);
            runtime.resync(store).await;
            Err(e)
        }
    }
}
