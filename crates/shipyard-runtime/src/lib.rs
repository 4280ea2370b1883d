//! Turning releases into what the edge serves. The route table is derived from the store:
//! rebuilt whole at start and after a change of what is live (a pause, a delete), and set for
//! one environment inside the transaction that activates a release, so `ready` (and a
//! rollback's 201) is only seen once the live URL serves the new release. Deploys and
//! rollbacks share that one activation path; node and python instances join it later.
#![forbid(unsafe_code)]

pub mod access_log;
mod activation;
pub mod admission;
mod bring_up;
pub mod doors;
mod health;
mod instances;
pub mod memory_budget;
pub mod rollback;
mod routes;
pub mod runs;
mod start;

pub use activation::{Activation, RouteLock};
pub use health::wait_healthy;
pub use instances::{CRASH_LIMIT, CommandEnd, Driver, InstanceSpec, InstanceState, InstanceStatus, Instances};
pub use start::{StartError, Started};

use shipyard_edge::{AccessLog, RouteTable};
use shipyard_store::{Backend, LiveRoutes, StoreError};
use shipyard_tasks::Tasks;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use thiserror::Error;

/// The port a server is given when its project names none.
pub const DEFAULT_PORT: u16 = 3000;

/// How long a new release has to answer its health check when neither the project nor
/// `--health-timeout` says.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

/// The limits of each instance of a release with `runtime`: its memory and CPU, and the
/// server's process limit.
pub fn instance_limits(runtime: &shipyard_core::RuntimeConfig, pids: u64) -> shipyard_sandbox::Limits {
    shipyard_sandbox::Limits {
        memory_bytes: u64::from(runtime.limits.memory_mb) * 1024 * 1024,
        pids,
        cpu_millis: Some(u64::from(runtime.limits.cpu_millis)),
    }
}

/// Why the runtime could not do what it was asked.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The runtime of one server: its route table, where releases' files live, and the
/// instances of server releases it runs.
#[derive(Clone)]
pub struct Runtime {
    routes: RouteTable,
    access: AccessLog,
    workspaces: shipyard_sandbox::Workspaces,
    apps_domain: String,
    tasks: Tasks,
    driver: Option<Driver>,
    runs: runs::Runs,
    health_timeout: Duration,
    running: Arc<Mutex<HashMap<String, Arc<Instances>>>>,
    // Every set of instances started and not yet stopped: starting (in their health wait),
    // routed, or draining. What `stop_all` stops, and what says a release still runs.
    alive: Arc<Mutex<Vec<Arc<Instances>>>>,
    // Set by `stop_all`: nothing starts after it.
    closing: Arc<std::sync::atomic::AtomicBool>,
    // Whether a `bring_up` runs, and whether one was asked for meanwhile.
    bring_ups: Arc<bring_up::BringUps>,
    // Releases whose instances answer but whose activation has not committed yet: not retired
    // by anyone else's `retire_inactive` meanwhile (see `Started`).
    pending: Arc<Mutex<HashSet<String>>>,
    // One activation (deploy go-live, rollback, bring-up) at a time per environment.
    activations: Arc<Mutex<HashMap<shipyard_core::EnvironmentId, Arc<tokio::sync::Mutex<()>>>>>,
    // Held by whoever changes what is live, from before its write transaction until after its
    // commit, and by every rebuild: a rebuild never installs a view older than a commit.
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Runtime {
    /// The runtime over `routes` (whose requests the edge logs to `access`), serving releases'
    /// files from the disks of `workspaces` on hosts under `apps_domain`, its background work
    /// owned by `tasks`.
    pub fn new(
        routes: RouteTable,
        access: AccessLog,
        workspaces: shipyard_sandbox::Workspaces,
        apps_domain: String,
        tasks: Tasks,
    ) -> Self {
        Self {
            routes,
            access,
            workspaces,
            apps_domain,
            tasks,
            driver: None,
            runs: runs::Runs::default(),
            health_timeout: DEFAULT_HEALTH_TIMEOUT,
            running: Arc::new(Mutex::new(HashMap::new())),
            alive: Arc::new(Mutex::new(Vec::new())),
            closing: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            bring_ups: Arc::new(bring_up::BringUps::default()),
            activations: Arc::new(Mutex::new(HashMap::new())),
            pending: Arc::new(Mutex::new(HashSet::new())),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// This runtime, running node and python releases' instances with `driver`, giving a
    /// new release `health_timeout` to answer unless its project says otherwise.
    pub fn with_driver(mut self, driver: Driver, health_timeout: Duration) -> Self {
        self.driver = Some(driver);
        self.health_timeout = health_timeout;
        self
    }

    /// The ways from sandboxes to their attached databases (None: no app instances run here).
    pub fn doors(&self) -> Option<&shipyard_sandbox::network::Doors> {
        self.driver.as_ref().map(|d| &d.doors)
    }

    /// Runs `command` once in a sandbox of `spec`'s release (see `Driver::run_command`).
    pub async fn run_command(
        &self,
        spec: &InstanceSpec,
        command: &str,
        until: (Duration, tokio::sync::watch::Receiver<bool>),
        stream: &str,
    ) -> std::io::Result<CommandEnd> {
        match &self.driver {
            Some(driver) => driver.run_command(spec, command, until, stream).await,
            None => Err(std::io::Error::other("this server runs no app instances")),
        }
    }

    /// The routed instances of `release`.
    pub fn instances(&self, release: &str) -> Option<Arc<Instances>> {
        self.running.lock().ok()?.get(release).cloned()
    }

    /// Every set of instances that runs (starting, routed or draining).
    pub fn instance_sets(&self) -> Vec<Arc<Instances>> {
        self.alive.lock().map(|alive| alive.clone()).unwrap_or_default()
    }

    /// Whether any instance of `release` still runs (starting, routed or draining).
    pub fn runs(&self, release: &str) -> bool {
        self.alive
            .lock()
            .is_ok_and(|alive| alive.iter().any(|i| i.release.as_str() == release))
    }

    /// Stops `instances` and drops them from the live set.
    async fn stop_and_forget(&self, instances: Arc<Instances>) {
        instances.stop().await;
        if let Ok(mut alive) = self.alive.lock() {
            alive.retain(|i| !Arc::ptr_eq(i, &instances));
        }
    }

    /// Stops the instances of every release that is no longer live (replaced, paused,
    /// deleted); with `drain`, after their release's `drainSeconds`, so in-flight requests
    /// finish on their connections; without (a pause, a delete), what still drains in an
    /// environment that no longer serves stops too, at once.
    pub async fn retire_inactive<B: Backend>(&self, store: &B, drain: bool) {
        let rows = match store.read().await {
            Ok(mut tx) => match tx.live_routes(None).await {
                Ok(rows) => rows,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let active = |r: &shipyard_store::LiveRoute| !r.suspended && r.status == shipyard_core::ProjectStatus::Active;
        let open: HashSet<shipyard_core::EnvironmentId> = rows
            .iter()
            .filter(|r| active(r))
            .map(|r| r.environment_id.clone())
            .collect();
        let serving: Vec<_> = rows
            .into_iter()
            .filter(active)
            .filter_map(|r| r.release.map(|(id, _)| (id.to_string(), r.environment_id)))
            .collect();
        let live: HashSet<&String> = serving.iter().map(|(release, _)| release).collect();
        let pending = self.pending.lock().map(|p| p.clone()).unwrap_or_default();
        let retired: Vec<Arc<Instances>> = match self.running.lock() {
            Ok(mut running) => {
                let gone: Vec<String> = running
                    .keys()
                    .filter(|r| !live.contains(*r) && !pending.contains(*r))
                    .cloned()
                    .collect();
                gone.iter().filter_map(|r| running.remove(r)).collect()
            }
            Err(_) => Vec::new(),
        };
        // Paused or deleted: what still drains there stops now, with what just stopped serving,
        // and so does what starts in an environment that is gone or no longer active.
        let mut now: Vec<Arc<Instances>> = Vec::new();
        if !drain && let Ok(alive) = self.alive.lock() {
            now.extend(
                alive
                    .iter()
                    .filter(|i| !pending.contains(i.release.as_str()))
                    .filter(|i| {
                        (i.retired() && !serving.iter().any(|(_, env)| *env == i.environment))
                            || !open.contains(&i.environment)
                    })
                    .filter(|i| !retired.iter().any(|r| Arc::ptr_eq(r, i)))
                    .cloned(),
            );
        }
        for instances in retired {
            instances.begin_retiring();
            now.push(instances);
        }
        for instances in now {
            let alive = self.alive.clone();
            // Cut short at shutdown, which stops every instance still alive (`stop_all`).
            self.tasks.spawn_until_stopping("retire", async move {
                instances.retire(drain).await;
                if let Ok(mut alive) = alive.lock() {
                    alive.retain(|i| !Arc::ptr_eq(i, &instances));
                }
            });
        }
    }

    /// Stops every instance this server started (at shutdown).
    pub async fn stop_all(&self) {
        if let Ok(mut running) = self.running.lock() {
            running.clear();
        }
        let all: Vec<Arc<Instances>> = match self.alive.lock() {
            Ok(mut alive) => {
                self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
                std::mem::take(&mut *alive)
            }
            Err(_) => Vec::new(),
        };
        // All at once: each may take its grace period.
        let mut stopping = tokio::task::JoinSet::new();
        for instances in all {
            stopping.spawn(async move { instances.stop().await });
        }
        while stopping.join_next().await.is_some() {}
    }

    /// How long a release with `runtime` has to pass its health check: its own
    /// `healthCheckTimeoutSeconds`, or the server's `--health-timeout`.
    pub fn health_within(&self, runtime: &shipyard_core::RuntimeConfig) -> Duration {
        runtime
            .health_check_timeout_seconds
            .map_or(self.health_timeout, |s| Duration::from_secs(u64::from(s)))
    }

    /// Forgets what the runtime counts for `environment` (it is deleted).
    pub fn forget_environment(&self, environment: &str) {
        self.access.forget(environment);
    }

    /// Access-log entries of `environment` dropped because the edge's queue was full.
    pub fn access_dropped(&self, environment: &str) -> u64 {
        self.access.dropped(environment)
    }

    /// The table the edge reads.
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// The workspaces' disks, where releases' files and instances' HOMEs are.
    pub fn workspaces(&self) -> &shipyard_sandbox::Workspaces {
        &self.workspaces
    }

    /// The server's background tasks: whoever spawns control-plane work spawns it here.
    pub fn tasks(&self) -> &Tasks {
        &self.tasks
    }

    /// The live host of an environment.
    pub fn host(&self, host_label: &str, workspace_slug: &str) -> String {
        shipyard_core::live_host::live_host(host_label, workspace_slug, &self.apps_domain)
    }

    /// Takes the lock that changing what is live needs; take it before the write transaction.
    pub async fn lock(&self) -> RouteLock<'_> {
        RouteLock {
            runtime: self,
            _guard: self.lock.lock().await,
            undo: Vec::new(),
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
            .flat_map(|(hosts, target)| hosts.into_iter().map(move |host| (host, target.clone())))
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
