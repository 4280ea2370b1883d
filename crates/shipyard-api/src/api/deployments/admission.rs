//! May an environment take new work now: the one rule for a deploy, a retry and a rollback,
//! checked inside the transaction that records it. The project must be active (409), the
//! workspace's daily deploy quota must have room (429; a rollback does not count), and its
//! memory budget must have room for the release's instances (422, saying by how much).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{Duration, NaiveTime, Utc};
use shipyard_core::{EnvironmentId, RuntimeConfig};
use shipyard_store::{Deployments, Project, TenantScope, Tx};

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

/// Refuses `what` in `environment` of `project`, to run as `runtime`, unless the project is
/// active, the workspace's deploy quota has room (deploys and retries) and its memory budget has
/// room for `runtime`'s instances.
pub async fn admit(
    state: &AppState,
    tx: &mut Tx,
    scope: &TenantScope,
    (project, environment): (&Project, &EnvironmentId),
    runtime: &RuntimeConfig,
    what: Admission,
) -> ApiResult<()> {
    if let Some(why) = project.refuses(what.verb()) {
        return Err(ApiError::conflict(why));
    }
    if what != Admission::Rollback {
        check_quota(tx, scope).await?;
    }
    check_memory(
        state,
        tx,
        scope,
        runtime,
        std::slice::from_ref(environment),
        what.noun(),
    )
    .await
}

/// 422 saying by how much when `runtime` running in `environments` would take the workspace
/// past its `memoryMbLimit` (see `shipyard_runtime::memory_budget`).
pub async fn check_memory(
    state: &AppState,
    tx: &mut Tx,
    scope: &TenantScope,
    runtime: &RuntimeConfig,
    environments: &[EnvironmentId],
    what: &str,
) -> ApiResult<()> {
    let budget = shipyard_runtime::memory_budget::Budget::of(tx, scope, what).await?;
    let running = state.runtime.held(scope.tenant_id());
    match budget.over(&running, runtime.into(), environments) {
        Some(why) => Err(ApiError::unprocessable(why)),
        None => Ok(()),
    }
}

/// 429 when the workspace used its deploys for this UTC day.
async fn check_quota(tx: &mut Tx, scope: &TenantScope) -> ApiResult<()> {
    let now = Utc::now();
    let day_start = now.date_naive().and_time(NaiveTime::MIN).and_utc();
    let quota = tx.deploy_quota(scope).await?;
    let used = tx.deployments_since(scope, day_start).await?;
    if used >= quota {
        let reset = day_start + Duration::days(1);
        let wait = u64::try_from((reset - now).num_seconds().max(1)).unwrap_or(1);
        return Err(ApiError::too_many_requests(
            format!("the workspace's deploy quota of {quota} per day is used up; it resets at 00:00 UTC (in {wait} s)"),
            wait,
        ));
    }
    Ok(())
}
