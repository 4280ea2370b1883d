//! A workspace's memory budget (CONTRACT.md "Runtime details"): `instances × limits.memoryMb`
//! of all its active server releases may not pass its `memoryMbLimit`. Deploys, rollbacks and
//! runtime-config changes are checked against it before they are accepted.

use crate::error::{ApiError, ApiResult};
use shipyard_core::{EnvironmentId, RuntimeConfig, RuntimeType};
use shipyard_store::{Deployments, Release, Releases, TenantScope, Tx};

/// MiB the instances of one environment running `runtime` take: none for a static site.
fn footprint(runtime: &RuntimeConfig) -> i64 {
    if runtime.runtime_type == RuntimeType::Static {
        return 0;
    }
    i64::from(runtime.instances) * i64::from(runtime.limits.memory_mb)
}

/// 422 saying by how much when `runtime` running in `environments` (in place of what is active
/// there) would take the workspace past its limit; `what` names the change ("this deploy").
pub async fn check(
    tx: &mut Tx,
    scope: &TenantScope,
    runtime: &RuntimeConfig,
    environments: &[EnvironmentId],
    what: &str,
) -> ApiResult<()> {
    let wanted = footprint(runtime) * environments.len() as i64;
    if wanted == 0 {
        return Ok(());
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
        return Err(ApiError::unprocessable(format!(
            "{what} would take the workspace's instances to {total} MiB of memory ({} × {} MiB here, \
             {elsewhere} MiB elsewhere), {} MiB over its memoryMbLimit of {limit} MiB",
            runtime.instances,
            runtime.limits.memory_mb,
            total - limit
        )));
    }
    Ok(())
}
