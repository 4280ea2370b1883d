//! Starting a server release's instances: what drains in its environment is stopped first,
//! the workspace's memory budget is checked under the lock that starts instances, and the
//! instances are waited for until they answer; the caller holds what comes back until its
//! activation commits.

use crate::InstanceSpec;
use crate::{Instances, Runtime, memory_budget, wait_healthy};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// A release whose instances answer, held by whoever makes it live until its activation has
/// committed (or failed): until then no `retire_inactive` takes it for a replaced one.
#[must_use = "held until the activation commits"]
pub struct Started {
    pending: Arc<Mutex<HashSet<String>>>,
    release: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(&self.release);
        }
    }
}

/// Why a release's instances did not start serving.
#[derive(Debug, Error)]
pub enum StartError {
    /// Its workspace's memory budget has no room for them (the sentence says by how much).
    #[error("{0}")]
    OverBudget(String),
    /// They could not start or never answered their health check: why, and their last lines.
    #[error("{0}")]
    Unhealthy(String, Vec<String>),
}

impl Runtime {
    /// Starts a server release's instances and waits (at most its health time) until every
    /// one answers its health check; then the release may be routed. What still drains in its
    /// environment is stopped first (the caller holds the environment's `Activation`), and its
    /// budget, if it has one, is checked under the lock that starts instances. On failure they
    /// are stopped again and the reason comes back with their last output lines.
    #[tracing::instrument(name = "start", skip_all, fields(release = %spec.release, environment = %spec.environment))]
    pub async fn start_release(&self, mut spec: InstanceSpec) -> Result<Started, StartError> {
        let unhealthy = |why: &str| StartError::Unhealthy(why.to_owned(), Vec::new());
        let Some(driver) = &self.driver else {
            return Err(unhealthy("this server runs no app instances"));
        };
        self.cut_drains(&spec.environment).await;
        let release = spec.release.to_string();
        let within = spec.health_within;
        let budget = spec.budget.take();
        let instances = {
            let mut alive = self.alive.lock().map_err(|_| unhealthy("the runtime is broken"))?;
            // Checked under the lock `stop_all` takes: a set started now is one it stops.
            if self.closing.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(unhealthy("the server is shutting down"));
            }
            if let Some(budget) = budget {
                let want = memory_budget::Want {
                    instances: spec.count,
                    memory_mb: u32::try_from(spec.limits.memory_bytes >> 20).unwrap_or(u32::MAX),
                };
                let running = self.held_in(&alive, &budget.tenant);
                if let Some(why) = budget.over(&running, want, std::slice::from_ref(&spec.environment)) {
                    return Err(StartError::OverBudget(why));
                }
            }
            let instances = driver.start(spec).map_err(|e| unhealthy(&e.to_string()))?;
            alive.push(instances.clone());
            instances
        };
        match wait_healthy(&instances, within).await {
            Ok(()) => {
                if let Ok(mut pending) = self.pending.lock() {
                    pending.insert(release.clone());
                }
                let started = Started {
                    pending: self.pending.clone(),
                    release: release.clone(),
                };
                let replaced = self.running.lock().ok().and_then(|mut r| r.insert(release, instances));
                if let Some(replaced) = replaced {
                    self.stop_and_forget(replaced).await;
                }
                Ok(started)
            }
            Err(why) => {
                let lines = instances
                    .states()
                    .into_iter()
                    .flat_map(|s| s.last_lines.into_iter())
                    .collect();
                self.stop_and_forget(instances).await;
                Err(StartError::Unhealthy(why, lines))
            }
        }
    }

    /// Stops what still drains in `environment`: a new release is going live there, and the
    /// memory it holds counts against the budget until it is gone. Each says so in its log.
    async fn cut_drains(&self, environment: &shipyard_core::EnvironmentId) {
        let draining: Vec<Arc<Instances>> = self
            .alive
            .lock()
            .map(|alive| {
                alive
                    .iter()
                    .filter(|i| i.environment == *environment && i.retired())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for instances in draining {
            if let Some(driver) = &self.driver {
                let stream = shipyard_store::logs::runtime_stream(&instances.release);
                let line = "drain cut short: a new release of this environment is going live, and what \
                            drains counts against the workspace's memory";
                driver
                    .logs
                    .append(&stream, shipyard_store::logs::LogKind::System, line)
                    .await;
            }
            self.stop_and_forget(instances).await;
        }
    }

    /// The sets of `tenant` in `alive`, as the budget sees them.
    fn held_in(&self, alive: &[Arc<Instances>], tenant: &shipyard_core::TenantId) -> Vec<memory_budget::Held> {
        let running = self.running.lock().map(|r| r.values().cloned().collect::<Vec<_>>());
        let running = running.unwrap_or_default();
        alive
            .iter()
            .filter(|i| i.tenant == *tenant)
            .map(|i| memory_budget::Held {
                environment: i.environment.clone(),
                release: i.release.clone(),
                mb: i.want.mb(),
                serving: running.iter().any(|r| Arc::ptr_eq(r, i)),
            })
            .collect()
    }

    /// Every set of instances of `tenant` that holds memory now: starting, serving, draining.
    pub fn held(&self, tenant: &shipyard_core::TenantId) -> Vec<memory_budget::Held> {
        self.alive
            .lock()
            .map(|alive| self.held_in(&alive, tenant))
            .unwrap_or_default()
    }
}
