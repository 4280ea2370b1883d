//! Making a release live: the one path deploys and rollbacks share.

use crate::{Runtime, RuntimeError, routes};
use shipyard_core::{EnvironmentId, ReleaseId};
use shipyard_store::{LiveRoutes, Releases, TenantScope};

/// The right to change what is live, held across one write transaction and its commit.
pub struct RouteLock<'a> {
    pub(crate) runtime: &'a Runtime,
    pub(crate) _guard: tokio::sync::MutexGuard<'a, ()>,
}

impl RouteLock<'_> {
    /// Activates `release` in `tx` unless a newer one is live, then points its environment's
    /// route at whatever `tx` now says is live there. The caller commits `tx` before dropping
    /// the lock, and calls `Runtime::sync` if the commit fails. True when it became active.
    pub async fn activate(
        &self,
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
        &self,
        tx: &mut (impl LiveRoutes + Send),
        environment: &EnvironmentId,
    ) -> Result<(), RuntimeError> {
        let rows = tx.live_routes(Some(environment)).await?;
        let current = self.runtime.routes.snapshot();
        let changes = rows
            .iter()
            .map(|row| {
                let host = self.runtime.host(&row.host_label, &row.workspace_slug);
                let target = routes::target(self.runtime, row, current.get(&host)).map(|(_, t)| t);
                (host, target)
            })
            .collect();
        self.runtime.routes.update(changes);
        Ok(())
    }
}
