//! A workspace's memory budget (CONTRACT.md, "Settled in turn 3"): `instances × limits.memoryMb`
//! of every instance set that holds memory — starting, serving and draining — may not pass its
//! `memoryMbLimit`. A swap may pass it by its own overlap (the environment's serving set, which
//! then drains), for one environment of a workspace at a time. Deploys, rollbacks and
//! runtime-config changes are checked when they are asked for, and once more, under the lock
//! that starts instances, just before a release's instances start.

use shipyard_core::{EnvironmentId, ReleaseId, RuntimeConfig, RuntimeType, TenantId};
use shipyard_store::{Databases, Deployments, Releases, StoreError, TenantScope};

/// The instances one environment runs: how many, and the memory of each.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    /// How many (0 for a static site).
    pub instances: u32,
    /// MiB each.
    pub memory_mb: u32,
}

impl Want {
    /// MiB they take together.
    pub fn mb(self) -> i64 {
        i64::from(self.instances) * i64::from(self.memory_mb)
    }
}

impl From<&RuntimeConfig> for Want {
    fn from(runtime: &RuntimeConfig) -> Self {
        let instances = if runtime.runtime_type == RuntimeType::Static {
            0
        } else {
            // Clamped as the driver clamps it: snapshots from before the 1–10 rule may say more.
            runtime.instances.clamp(1, 10)
        };
        Self {
            instances,
            memory_mb: runtime.limits.memory_mb,
        }
    }
}

/// One set of instances that holds (or will hold) memory.
#[derive(Debug, Clone)]
pub struct Held {
    /// Its environment.
    pub environment: EnvironmentId,
    /// Its release.
    pub release: ReleaseId,
    /// MiB it holds.
    pub mb: i64,
    /// Whether the edge routes to it (else it is starting or draining).
    pub serving: bool,
}

/// A workspace's limit and what its store says is live, read once; checked against what runs.
#[derive(Debug, Clone)]
pub struct Budget {
    /// The workspace.
    pub tenant: TenantId,
    limit: i64,
    // Active server releases: they hold memory once brought up, even while none of their
    // instances runs (at start, before `bring_up` reaches them).
    stored: Vec<Held>,
    // MiB the workspace's databases hold (those provisioning or running).
    databases: i64,
    // The change checked ("this deploy", "release v4").
    what: String,
}

impl Budget {
    /// The budget of `scope`'s workspace for the change `what`.
    pub async fn of(
        tx: &mut (impl Releases + Deployments + Databases + Send),
        scope: &TenantScope,
        what: impl Into<String>,
    ) -> Result<Self, StoreError> {
        let stored = tx
            .active_releases(scope)
            .await?
            .into_iter()
            .filter_map(|r| {
                let mb = Want::from(&r.config.runtime).mb();
                (mb > 0).then_some(Held {
                    environment: r.environment_id,
                    release: r.id,
                    mb,
                    serving: true,
                })
            })
            .collect();
        Ok(Self {
            tenant: scope.tenant_id().clone(),
            limit: tx.memory_mb_limit(scope).await?,
            stored,
            databases: tx.database_holdings(scope).await?.0,
            what: what.into(),
        })
    }

    /// The sentence saying by how much, when a database of `memory_mb` starting would take
    /// the workspace past its limit, with `running` the workspace's instance sets now.
    pub fn over_for_database(&self, running: &[Held], memory_mb: i64) -> Option<String> {
        let instances: i64 = running.iter().map(|h| h.mb).sum::<i64>()
            + self
                .stored
                .iter()
                .filter(|s| !running.iter().any(|r| r.release == s.release))
                .map(|s| s.mb)
                .sum::<i64>();
        let total = instances + self.databases + memory_mb;
        let limit = self.limit;
        (total > limit).then(|| {
            format!(
                "{} would take the workspace to {total} MiB of memory ({memory_mb} MiB for it, {} MiB of other \
                 databases, {instances} MiB of instances), {} MiB over its memoryMbLimit of {limit} MiB",
                self.what,
                self.databases,
                total - limit
            )
        })
    }

    /// The sentence saying by how much, when `want` going live in `environments` (none: one
    /// environment that runs nothing yet) would take the workspace past its limit, with
    /// `running` the workspace's instance sets now.
    pub fn over(&self, running: &[Held], want: Want, environments: &[EnvironmentId]) -> Option<String> {
        let wanted = want.mb() * environments.len().max(1) as i64;
        if wanted == 0 {
            return None;
        }
        let mut held: Vec<&Held> = running.iter().collect();
        held.extend(
            self.stored
                .iter()
                .filter(|s| !running.iter().any(|r| r.release == s.release)),
        );
        let mine = |h: &&Held| environments.contains(&h.environment);
        let elsewhere: i64 = held.iter().filter(|h| !mine(h)).map(|h| h.mb).sum::<i64>() + self.databases;
        let total = elsewhere + wanted;
        let limit = self.limit;
        if total > limit {
            return Some(format!(
                "{} would take the workspace's instances to {total} MiB of memory ({} × {} MiB here, \
                 {elsewhere} MiB elsewhere, starting, serving and draining, databases included), {} MiB over its memoryMbLimit of {limit} MiB",
                self.what,
                want.instances,
                want.memory_mb,
                total - limit
            ));
        }
        // The overlap: what serves here now keeps serving while the new set starts, then drains.
        let overlap: i64 = held.iter().filter(|h| mine(h) && h.serving).map(|h| h.mb).sum();
        // Another environment is mid-swap while it has a set starting or draining, or two
        // sets (the new one routed-to-be and the old) before the old is retired.
        let swapping_elsewhere = held
            .iter()
            .any(|h| !mine(h) && (!h.serving || held.iter().filter(|o| o.environment == h.environment).count() > 1));
        if overlap > 0 && swapping_elsewhere && total + overlap > limit {
            return Some(format!(
                "{} would take the workspace's instances to {} MiB of memory while the release it replaces \
                 drains ({overlap} MiB), {} MiB over its memoryMbLimit of {limit} MiB; only one environment at a \
                 time may pass it while swapping, and another one is starting or draining: try again when it is done",
                self.what,
                total + overlap,
                total + overlap - limit
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(environment: &EnvironmentId, mb: i64, serving: bool) -> Held {
        Held {
            environment: environment.clone(),
            release: ReleaseId::generate(),
            mb,
            serving,
        }
    }

    fn budget(limit: i64, stored: Vec<Held>) -> Budget {
        Budget {
            tenant: TenantId::generate(),
            limit,
            stored,
            databases: 0,
            what: "this rollback".into(),
        }
    }

    #[test]
    fn databases_count_toward_the_limit_both_ways() {
        let web = EnvironmentId::generate();
        let mut with_databases = budget(1024, vec![set(&web, 512, true)]);
        with_databases.databases = 256;
        // A deploy elsewhere meets the databases' memory as well as the instances'.
        let other = EnvironmentId::generate();
        let why = with_databases
            .over(&[], node(1, 512), &[other])
            .expect("over by 256 MiB");
        assert!(why.contains("256 MiB over"), "{why}");
        assert!(
            with_databases
                .over(&[], node(1, 256), &[EnvironmentId::generate()])
                .is_none()
        );
        // A database meets both too.
        let why = with_databases.over_for_database(&[], 512).expect("over by 256 MiB");
        assert!(
            why.contains("256 MiB over") && why.contains("256 MiB of other databases"),
            "{why}"
        );
        assert!(with_databases.over_for_database(&[], 256).is_none());
    }

    fn node(instances: u32, memory_mb: u32) -> Want {
        let mut runtime = RuntimeConfig::defaults(RuntimeType::Node);
        runtime.instances = instances;
        runtime.limits.memory_mb = memory_mb;
        Want::from(&runtime)
    }

    #[test]
    fn draining_and_starting_sets_count_and_one_environment_at_a_time_may_overlap() {
        let (a, b) = (EnvironmentId::generate(), EnvironmentId::generate());
        let here = std::slice::from_ref(&a);
        let big = node(2, 2560);
        let (serving_a, draining_b) = (set(&a, 4096, true), set(&b, 4096, false));
        // A swap of `a` may pass the limit by what serves there now…
        assert_eq!(
            budget(8192, vec![]).over(std::slice::from_ref(&serving_a), big, here),
            None
        );
        // …but what drains elsewhere counts in full,
        let draining = std::slice::from_ref(&draining_b);
        let over = budget(8192, vec![]).over(draining, big, here).expect("over");
        assert!(
            over.contains("9216 MiB") && over.contains("4096 MiB elsewhere"),
            "{over}"
        );
        let small = node(1, 1024);
        assert_eq!(budget(8192, vec![]).over(draining, small, here), None);
        // and while `b` drains, `a` may not pass the limit with its own overlap.
        let refused = budget(8192, vec![])
            .over(&[draining_b, serving_a], node(1, 3072), here)
            .expect("over");
        assert!(refused.contains("only one environment"), "{refused}");
        // Two serving sets of `b` (its new one before the old is retired) are a swap too.
        let (old_b, new_b) = (set(&b, 2048, true), set(&b, 2048, true));
        let refused = budget(8192, vec![])
            .over(&[old_b, new_b, set(&a, 4096, true)], node(1, 3072), here)
            .expect("over");
        assert!(refused.contains("only one environment"), "{refused}");
        // An active release whose instances are not running yet still counts.
        let stored = vec![set(&b, 8192, true)];
        assert!(budget(8192, stored).over(&[], small, here).is_some());
    }
}
