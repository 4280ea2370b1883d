//! What every handler can reach: the store, the secret box, the repository mirrors and the
//! settings of this server.

use crate::rate_limit::LoginLimiter;
use shipyard_build::Repositories;
use shipyard_core::SecretBox;
use shipyard_databases::Clusters;
use shipyard_domains::Here;
use shipyard_runtime::Runtime;
use shipyard_store::SqliteStore;
use shipyard_store::logs::LogStore;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

/// Settings of the API that come from `shipyard serve`'s configuration.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Where the API and console answer (for the Origin check).
    pub platform_host: String,
    /// Keep signup open after the first user.
    pub allow_signup: bool,
    /// Apps live on subdomains of this.
    pub apps_domain: String,
    /// Port of the public listener, shown in live URLs (None for 80).
    pub public_port: Option<u16>,
    /// The HTTPS listener (`--listen-tls`): live URLs it has a certificate for are `https://`.
    pub https: Option<shipyard_edge::tls::Https>,
    /// Accept `file://` repository connections.
    pub allow_local_repos: bool,
    /// Where `file://` repositories must lie (`--local-repos-root`, canonical), when named.
    pub local_repos_root: Option<PathBuf>,
    /// Where everything lives: the data directory, which `file://` connections may not point
    /// into, and the work root, where build disks are mounted.
    pub layout: shipyard_store::Layout,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Releases kept per environment with their files (`--release-retention`).
    pub release_retention: i64,
}

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: SqliteStore,
    /// This server's settings.
    pub settings: Arc<ApiSettings>,
    /// Throttles password guessing.
    pub login_limiter: Arc<LoginLimiter>,
    /// Seals credentials at rest.
    pub secret_box: SecretBox,
    /// Mirrors of connected repositories.
    pub repos: Arc<Repositories>,
    /// Build and runtime logs, and the notifier followers wait on.
    pub logs: LogStore,
    /// Wakes the worker when a job is queued.
    pub jobs_queued: Arc<Notify>,
    /// What the edge serves, and the one way to change it.
    pub runtime: Runtime,
    /// The managed databases this server runs.
    pub databases: Clusters,
    /// Where custom domains should point, and the resolver that says where they do.
    pub domains: Here,
    /// Where verified domains' certificates come from (None: no HTTPS listener).
    pub acme: Option<shipyard_domains::acme::Acme>,
}

/// The parts of the server the API drives.
pub struct Services {
    /// Mirrors of connected repositories.
    pub repos: Arc<Repositories>,
    /// Build and runtime logs.
    pub logs: LogStore,
    /// Wakes the worker when a job is queued.
    pub jobs_queued: Arc<Notify>,
    /// What the edge serves.
    pub runtime: Runtime,
    /// The managed databases.
    pub databases: Clusters,
    /// Custom domains' resolver and this server's public addresses.
    pub domains: Here,
    /// The certificate issuer (with `--listen-tls`).
    pub acme: Option<shipyard_domains::acme::Acme>,
}

impl AppState {
    /// State for a server over `store`.
    pub fn new(store: SqliteStore, settings: ApiSettings, secret_box: SecretBox, services: Services) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            login_limiter: Arc::new(LoginLimiter::new()),
            secret_box,
            repos: services.repos,
            logs: services.logs,
            jobs_queued: services.jobs_queued,
            runtime: services.runtime,
            databases: services.databases,
            domains: services.domains,
            acme: services.acme,
        }
    }
}
