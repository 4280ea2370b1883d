//! The route table: live host → what answers it. It is handed to the edge already built (the
//! runtime derives it from the store) and swapped whole, atomically, so a request sees the
//! old table or the new one, never a mix, and a lookup takes no lock.

use crate::proxy::Upstreams;
use crate::static_site::Site;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;

/// What answers a live host.
#[derive(Debug)]
pub enum Target {
    /// A release's built files.
    Static {
        /// The environment it serves (`env_…`; its access log).
        environment: String,
        /// The release (`rel_…`).
        release: String,
        /// Its files.
        site: Site,
    },
    /// A release's running instances, behind the reverse proxy.
    Proxy {
        /// The environment it serves.
        environment: String,
        /// The release (`rel_…`).
        release: String,
        /// Its instances' addresses.
        upstreams: Upstreams,
    },
    /// Routed, but not serving: the 503 page says why (paused, suspended, not started).
    Unavailable {
        /// The environment it would serve.
        environment: String,
        /// What the page says.
        why: String,
    },
}

impl Target {
    /// The environment the host belongs to.
    pub fn environment(&self) -> &str {
        match self {
            Target::Static { environment, .. }
            | Target::Proxy { environment, .. }
            | Target::Unavailable { environment, .. } => environment,
        }
    }
}

/// The whole table.
pub type Table = HashMap<String, Arc<Target>>;

/// The edge's routes, shared between the listener and whoever rebuilds them.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    table: Arc<ArcSwap<Table>>,
}

impl RouteTable {
    /// What answers `host` now.
    pub fn get(&self, host: &str) -> Option<Arc<Target>> {
        self.table.load().get(host).cloned()
    }

    /// Replaces the whole table at once.
    pub fn replace(&self, table: Table) {
        self.table.store(Arc::new(table));
    }

    /// Sets (or, with None, removes) the routes of `hosts`, keeping every other one, in one swap.
    pub fn update(&self, changes: Vec<(String, Option<Arc<Target>>)>) {
        self.table.rcu(|current| {
            let mut next = Table::clone(current);
            for (host, target) in &changes {
                match target {
                    Some(target) => next.insert(host.clone(), target.clone()),
                    None => next.remove(host),
                };
            }
            next
        });
    }

    /// Every host routed now, with what answers it.
    pub fn snapshot(&self) -> Arc<Table> {
        self.table.load_full()
    }
}
