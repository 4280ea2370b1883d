//! May an environment take new work now: the one rule for a deploy, a retry and a rollback,
//! checked inside the transaction that records it. The project must be active, the workspace's
//! daily deploy quota must have room (a rollback does not count), and its memory budget must
//! have room for the release's instances — which only the runtime can say, since instances
//! starting and draining hold memory the store does not record.

use crate::Runtime;
use crate::memory_budget::Budget;
use chrono::{Duration, NaiveTime, Utc};
use shipyard_core::{EnvironmentId, RuntimeConfig};
use shipyard_store::{Deployments, Project, StoreError, TenantScope, Tx};
use thiserror::Error;

/// What asks to make something live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// A new deployment.
    Deploy,
    /// A deployment of the same commit again.
    Retry,
    /// A return to an earlier release (no build; not counted against the quota).
    Rollback,
}

impl Admission {
    /// What the refusals call it.
    fn noun(self) -> &'static str {
        match self {
            Self::Deploy => "this deploy",
            Self::Retry => "this retry",
            Self::Rollback => "this rollback",
        }
    }

    /// What the project's owner must make possible again.
    fn verb(self) -> &'static str {
        match self {
            Self::Deploy | Self::Retry => "deploy",
            Self::Rollback => "roll back",
        }
    }
}

/// Why new work may not start now; each sentence says what would let it.
#[derive(Debug, Error)]
pub enum Refusal {
    /// The project is paused or archived.
    #[error("{0}")]
    NotActive(String),
    /// The workspace used its deploys for this UTC day.
    #[error("the workspace's deploy quota of {quota} per day is used up; it resets at 00:00 UTC (in {wait_secs} s)")]
    Quota {
        /// Deploys per day.
        quota: i64,
        /// Seconds until the quota resets.
        wait_secs: u64,
    },
    /// The workspace's memory budget has no room, by how much.
    #[error("{0}")]
    OverMemory(String),
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runtime {
    /// Refuses `what` in `environment` of `project`, to run as `runtime`, unless the project is
    /// active, the workspace's deploy quota has room (deploys and retries) and its memory budget
    /// has room for `runtime`'s instances.
    pub async fn admit(
        &self,
        tx: &mut Tx,
        scope: &TenantScope,
        (project, environment): (&Project, &EnvironmentId),
        runtime: &RuntimeConfig,
        what: Admission,
    ) -> Result<(), Refusal> {
        if let Some(why) = project.refuses(what.verb()) {
            return Err(Refusal::NotActive(why));
        }
        if what != Admission::Rollback {
            check_quota(tx, scope).await?;
        }
        self.check_memory(tx, scope, runtime, std::slice::from_ref(environment), what.noun())
            .await
    }

    /// Refuses a database of `memory_mb` starting when it would take the workspace past its
    /// `memoryMbLimit`, saying by how much.
    pub async fn check_database_memory(&self, tx: &mut Tx, scope: &TenantScope, memory_mb: u32) -> Result<(), Refusal> {
        let budget = Budget::of(tx, scope, "this database").await?;
        match budget.over_for_database(&self.held(scope.tenant_id()), i64::from(memory_mb)) {
            Some(why) => Err(Refusal::OverMemory(why)),
            None => Ok(()),
        }
    }

    /// Refuses `runtime` running in `environments` when it would take the workspace past its
    /// `memoryMbLimit`, saying by how much (see `memory_budget`).
    pub async fn check_memory(
        &self,
        tx: &mut Tx,
        scope: &TenantScope,
        runtime: &RuntimeConfig,
        environments: &[EnvironmentId],
        what: &str,
    ) -> Result<(), Refusal> {
        let budget = Budget::of(tx, scope, what).await?;
        let running = self.held(scope.tenant_id());
        match budget.over(&running, runtime.into(), environments) {
            Some(why) => Err(Refusal::OverMemory(why)),
            None => Ok(()),
        }
    }
}

/// Refuses when the workspace used its deploys for this UTC day.
async fn check_quota(tx: &mut Tx, scope: &TenantScope) -> Result<(), Refusal> {
    let now = Utc::now();
    let day_start = now.date_naive().and_time(NaiveTime::MIN).and_utc();
    let quota = tx.deploy_quota(scope).await?;
    let used = tx.deployments_since(scope, day_start).await?;
    if used >= quota {
        let reset = day_start + Duration::days(1);
        let wait_secs = u64::try_from((reset - now).num_seconds().max(1)).unwrap_or(1);
        return Err(Refusal::Quota { quota, wait_secs });
    }
    Ok(())
}
