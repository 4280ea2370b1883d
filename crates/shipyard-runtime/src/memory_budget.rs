//! A workspace's memory budget (CONTRACT.md "Runtime details"): `instances × limits.memoryMb`
//! of all its active server releases may not pass its `memoryMbLimit`. Deploys, rollbacks and
//! runtime-config changes are checked against it when they are asked for, and a release once
//! more just before its instances start (the workspace may have changed in between).

use shipyard_core::{EnvironmentId, RuntimeConfig, RuntimeType};
use shipyard_store::{Deployments, Release, Releases, StoreError, TenantScope};

/// MiB the instances of one environment running `runtime` take: none for a static site.
fn footprint(runtime: &RuntimeConfig) -> i64 {
    if runtime.runtime_type == RuntimeType::Static {
        return 0;
    }
    // Clamped as the driver clamps it: snapshots from before the 1–10 rule may say more.
    i64::from(runtime.instances.clamp(1, 10)) * i64::from(runtime.limits.memory_mb)
}

/// The sentence saying by how much, when `runtime` running in `environments` (in place of what
/// is active there; none: one environment that runs nothing yet) would take the workspace past
/// its limit; `what` names the change ("this deploy").
pub async fn over_budget(
    tx: &mut (impl Releases + Deployments + Send),
    scope: &TenantScope,
    runtime: &RuntimeConfig,
    environments: &[EnvironmentId],
    what: &str,
) -> Result<Option<String>, StoreError> {
    let wanted = footprint(runtime) * environments.len().max(1) as i64;
    if wanted == 0 {
        return Ok(None);
    }
    let elsewhere: i64 = tx
        .active_releases(scope)
        .await?
        .iter()
        .filter(|r| !environments.contains(&r.environment_id))
        .filter_map(Release::runtime)
        .map(|r| footprint(&r))
        .sum();
    let limit = tx.memory_mb_limit(scope).await?;
    let total = elsewhere + wanted;
    if total > limit {
        return Ok(Some(format!(
            "{what} would take the workspace's instances to {total} MiB of memory ({} × {} MiB here, \
             {elsewhere} MiB elsewhere), {} MiB over its memoryMbLimit of {limit} MiB",
            runtime.instances,
            runtime.limits.memory_mb,
            total - limit
        )));
    }
    Ok(None)
}
