//! Turning releases into what the edge serves. The route table is derived from the store:
//! rebuilt whole at start and after a change of what is live (a pause, a delete), and set for
//! one environment inside the transaction that activates a release, so `ready` (and a
//! rollback's 201) is only seen once the live URL serves the new release. Deploys and
//! rollbacks share that one activation path; node and python instances join it later.
#![forbid(unsafe_code)]

mod activation;
mod routes;

pub use activation::RouteLock;

use shipyard_edge::RouteTable;
use shipyard_store::{Backend, LiveRoutes, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

/// Why the runtime could not do what it was asked.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The runtime of one server: its route table and where releases' files live.
#[derive(Debug, Clone)]
pub struct Runtime {
    routes: RouteTable,
    artifacts: PathBuf,
    apps_domain: String,
    // Held by whoever changes what is live, from before its write transaction until after its
    // commit, and by every rebuild: a rebuild never installs a view older than a commit.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Runtime {
    /// The runtime over `routes`, serving artifacts from `artifacts` (`<data>/artifacts`) on
    /// hosts under `apps_domain`.
    pub fn new(routes: RouteTable, artifacts: PathBuf, apps_domain: String) -> Self {
        Self {
            routes,
            artifacts,
            apps_domain,
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The table the edge reads.
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The live host of an environment.
    pub fn host(&self, host_label: &str, workspace_slug: &str) -> String {
        routes::host(host_label, workspace_slug, &self.apps_domain)
    }

    /// Takes the lock that changing what is live needs; take it before the write transaction.
    pub async fn lock(&self) -> RouteLock<'_> {
        RouteLock {
            runtime: self,
            _guard: self.lock.lock().await,
        }
    }

    /// Rebuilds every route from what `store` has committed.
    pub async fn sync<B: Backend>(&self, store: &B) -> Result<(), RuntimeError> {
        let lock = self.lock().await;
        let live = store.read().await?.live_routes(None).await?;
        let current = self.routes.snapshot();
        let table = live
            .iter()
            .filter_map(|row| routes::target(self, row, current.get(&self.host(&row.host_label, &row.workspace_slug))))
            .collect();
        self.routes.replace(table);
        drop(lock);
        Ok(())
    }

    /// Rebuilds the routes, logging (not failing) when the store cannot be read: the table
    /// keeps serving what it had.
    pub async fn resync<B: Backend>(&self, store: &B) {
        if let Err(e) = self.sync(store).await {
            tracing::error!(error = %e, "the route table could not be rebuilt from the store");
        }
    }
}
