//! Making a release live: the one path deploys and rollbacks share, one at a time per
//! environment.

use crate::{Runtime, RuntimeError, routes};
use shipyard_core::{EnvironmentId, ReleaseId};
use shipyard_edge::Target;
use shipyard_store::{LiveRoutes, Releases, TenantScope};
use std::sync::Arc;

/// The right to change what is live, held across one write transaction and its commit.
/// Routes it set are put back when it is dropped without `committed` (an early return, a
/// canceled request): the table never keeps what the store never committed.
pub struct RouteLock<'a> {
    pub(crate) runtime: &'a Runtime,
    pub(crate) _guard: tokio::sync::MutexGuard<'a, ()>,
    pub(crate) undo: Vec<(String, Option<Arc<Target>>)>,
}

impl Drop for RouteLock<'_> {
    fn drop(&mut self) {
        if !self.undo.is_empty() {
            self.runtime.routes.update(std::mem::take(&mut self.undo));
        }
    }
}

impl RouteLock<'_> {
    /// Activates `release` in `tx` unless a newer one is live, then points its environment's
    /// route at whatever `tx` now says is live there. The caller commits `tx` before dropping
    /// the lock, and calls `Runtime::sync` if the commit fails. True when it became active.
    pub async fn activate(
        &mut self,
        tx: &mut (impl Releases + LiveRoutes + Send),
        scope: &TenantScope,
        release: &ReleaseId,
        environment: &EnvironmentId,
    ) -> Result<bool, RuntimeError> {
        let activated = tx.activate_release_if_newer(scope, release).await?;
        self.route_environment(tx, environment).await?;
        Ok(activated)
    }

    /// Sets `environment`'s route to what `tx` says is live there.
    pub async fn route_environment(
        &mut self,
        tx: &mut (impl LiveRoutes + Send),
        environment: &EnvironmentId,
    ) -> Result<(), RuntimeError> {
        let rows = tx.live_routes(Some(environment)).await?;
        let current = self.runtime.routes.snapshot();
        let mut changes: Vec<(String, Option<Arc<Target>>)> = Vec::new();
        for row in &rows {
            let host = self.runtime.host(&row.host_label, &row.workspace_slug);
            match routes::target(self.runtime, row, current.get(&host)) {
                Some((hosts, target)) => changes.extend(hosts.into_iter().map(|h| (h, Some(target.clone())))),
                None => changes.push((host, None)),
            }
        }
        // A host the environment no longer has (a custom domain removed, no release live)
        // stops being served in the same swap.
        let stale = current
            .iter()
            .filter(|(host, target)| {
                target.environment() == environment.as_str() && !changes.iter().any(|(h, _)| h == *host)
            })
            .map(|(host, _)| (host.clone(), None));
        changes.extend(stale.collect::<Vec<_>>());
        for (host, _) in &changes {
            if !self.undo.iter().any(|(h, _)| h == host) {
                self.undo.push((host.clone(), current.get(host).cloned()));
            }
        }
        self.runtime.routes.update(changes);
        Ok(())
    }

    /// The transaction committed: the routes it set stay.
    pub fn committed(mut self) {
        self.undo.clear();
    }
}

/// The right to make a release of one environment live (deploy go-live, rollback, bring-up):
/// one holder per environment at a time, so two activations never start sets side by side.
pub struct Activation {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

impl Runtime {
    /// The lock of `environment`'s activations; entries nobody holds or waits for are dropped.
    fn activation_lock(&self, environment: &EnvironmentId) -> Option<Arc<tokio::sync::Mutex<()>>> {
        let mut locks = self.activations.lock().ok()?;
        locks.retain(|env, lock| env == environment || Arc::strong_count(lock) > 1);
        Some(locks.entry(environment.clone()).or_default().clone())
    }

    /// Waits for `environment`'s activation in flight, if any, and takes the right (None only
    /// when the runtime is broken).
    pub async fn activation(&self, environment: &EnvironmentId) -> Option<Activation> {
        let lock = self.activation_lock(environment)?;
        Some(Activation {
            _guard: lock.lock_owned().await,
        })
    }

    /// The right to activate in `environment`, or None while another activation is in flight.
    pub fn try_activation(&self, environment: &EnvironmentId) -> Option<Activation> {
        let lock = self.activation_lock(environment)?;
        lock.try_lock_owned().ok().map(|guard| Activation { _guard: guard })
    }
}
