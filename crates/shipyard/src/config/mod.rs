//! `shipyard serve`'s configuration: each setting is a flag, an environment variable
//! (`SHIPYARD_<FLAG>`) and a key of the TOML file given by `--config`; flags win over the
//! environment, which wins over the file, which wins over the defaults.

mod settings;
pub(crate) mod values;

pub use settings::{AcmeSettings, Settings, TlsSettings};

use anyhow::{Context, bail};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use values::{addresses, bytes, cidrs, duration, duration_at_most, hostname, uid_range, watch_window};

/// Flags of `shipyard serve`; every one is optional so the file and defaults can fill in.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as the flag names).
    #[arg(long, env = "SHIPYARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// The one HTTP listener [default: 127.0.0.1:8080].
    #[arg(long, env = "SHIPYARD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Database, logs, key, mirrors, artifacts [default: ./shipyard-data].
    #[arg(long, env = "SHIPYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Host where the API and console answer [default: localhost].
    #[arg(long, env = "SHIPYARD_PLATFORM_HOST")]
    pub platform_host: Option<String>,
    /// Apps live at <project>-<env>.<workspace>.<apps-domain> [default: localhost].
    #[arg(long, env = "SHIPYARD_APPS_DOMAIN")]
    pub apps_domain: Option<String>,
    /// The HTTPS listener, e.g. `0.0.0.0:443` [default: none].
    #[arg(long, env = "SHIPYARD_LISTEN_TLS")]
    pub listen_tls: Option<SocketAddr>,
    /// The certificate chain (PEM, leaf first) the HTTPS listener presents for the names it covers; reloaded when it changes [default: none].
    #[arg(long, env = "SHIPYARD_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert [default: none].
    #[arg(long, env = "SHIPYARD_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Seconds browsers keep to HTTPS for a host served over it (Strict-Transport-Security); 0 sends none [default: 31536000].
    #[arg(long, env = "SHIPYARD_HSTS_MAX_AGE")]
    pub hsts_max_age: Option<u64>,
    /// The ACME directory certificates of verified custom domains come from (with --listen-tls) [default: Let's Encrypt].
    #[arg(long, env = "SHIPYARD_ACME_DIRECTORY")]
    pub acme_directory: Option<String>,
    /// The contact address of the ACME account [default: none].
    #[arg(long, env = "SHIPYARD_ACME_EMAIL")]
    pub acme_email: Option<String>,
    /// The only root trusted for the ACME server's own HTTPS, e.g. a company's internal CA [default: the system's roots].
    #[arg(long, env = "SHIPYARD_ACME_CA_ROOT")]
    pub acme_ca_root: Option<PathBuf>,
    /// Live hosts get ACME certificates of their own too (each counts against the CA's weekly limit for the apps domain) [default: false].
    #[arg(long, env = "SHIPYARD_ACME_LIVE_HOSTS", num_args = 0..=1, default_missing_value = "true")]
    pub acme_live_hosts: Option<bool>,
    /// Renew a certificate once it has less than this left, e.g. `30d`; certificates are renewed with a third of their lifetime left anyway [default: 0].
    #[arg(long, env = "SHIPYARD_RENEW_BEFORE")]
    pub renew_before: Option<String>,
    /// Keep signup open after the first user [default: false].
    #[arg(long, env = "SHIPYARD_ALLOW_SIGNUP", num_args = 0..=1, default_missing_value = "true")]
    pub allow_signup: Option<bool>,
    /// Accept `file://` repository connections (never inside the data dir) [default: true].
    #[arg(long, env = "SHIPYARD_ALLOW_LOCAL_REPOS", num_args = 0..=1, default_missing_value = "true")]
    pub allow_local_repos: Option<bool>,
    /// The directory `file://` repositories must lie below; connections elsewhere are refused [default: none].
    #[arg(long, env = "SHIPYARD_LOCAL_REPOS_ROOT")]
    pub local_repos_root: Option<PathBuf>,
    /// Where PostgreSQL's server binaries are installed, one directory per major with `bin/` [default: /usr/lib/postgresql].
    #[arg(long, env = "SHIPYARD_POSTGRES_ROOT")]
    pub postgres_root: Option<PathBuf>,
    /// Builds at once [default: one per core].
    #[arg(long, env = "SHIPYARD_BUILD_CONCURRENCY")]
    pub build_concurrency: Option<usize>,
    /// Wall clock per build, e.g. `15m`, `90s`, `1h` [default: 15m].
    #[arg(long, env = "SHIPYARD_BUILD_TIMEOUT")]
    pub build_timeout: Option<String>,
    /// How long a new release has to answer its health check unless its project says, e.g. `60s` [default: 60s].
    #[arg(long, env = "SHIPYARD_HEALTH_TIMEOUT")]
    pub health_timeout: Option<String>,
    /// How long after go-live a crash loop rolls a release back, e.g. `2m`; `0` turns it off [default: 2m].
    #[arg(long, env = "SHIPYARD_GO_LIVE_WATCH")]
    pub go_live_watch: Option<String>,
    /// How long a client may take to send a request's headers, e.g. `30s` [default: 30s].
    #[arg(long, env = "SHIPYARD_HEADER_TIMEOUT")]
    pub header_timeout: Option<String>,
    /// How long a request body, an app's answer or a WebSocket may go without a byte, e.g. `60s` [default: 60s].
    #[arg(long, env = "SHIPYARD_IDLE_TIMEOUT")]
    pub idle_timeout: Option<String>,
    /// Memory per build, e.g. `2GiB`, `512MiB` [default: 2GiB].
    #[arg(long, env = "SHIPYARD_BUILD_MEMORY")]
    pub build_memory: Option<String>,
    /// Disk of one project's builds (their workspaces and its cache, an image of this size), e.g. `10GiB` [default: 10GiB].
    #[arg(long, env = "SHIPYARD_BUILD_DISK")]
    pub build_disk: Option<String>,
    /// Largest release a build may store, e.g. `2GiB` [default: 2GiB].
    #[arg(long, env = "SHIPYARD_ARTIFACT_MAX")]
    pub artifact_max: Option<String>,
    /// Bytes of access-log entries waiting to be stored before the heaviest app's newest are dropped, e.g. `16MiB` [default: 16MiB].
    #[arg(long, env = "SHIPYARD_ACCESS_LOG_BUFFER")]
    pub access_log_buffer: Option<String>,
    /// Bytes of log text (build, runtime and access logs) one workspace keeps; past it its oldest lines go first, e.g. `2GiB` [default: 2GiB].
    #[arg(long, env = "SHIPYARD_LOG_BYTES_PER_WORKSPACE")]
    pub log_bytes_per_workspace: Option<String>,
    /// Threads that serve the listener's connections, each with its own event loop and socket [default: one per core].
    #[arg(long, env = "SHIPYARD_EDGE_WORKERS")]
    pub edge_workers: Option<usize>,
    /// Open connections the listener holds in all [default: 16384, lowered to fit the open-files limit].
    #[arg(long, env = "SHIPYARD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Open connections from one client address (an IPv6 client's /64); trusted proxies count only in the total [default: 256].
    #[arg(long, env = "SHIPYARD_MAX_CONNECTIONS_PER_CLIENT")]
    pub max_connections_per_client: Option<usize>,
    /// Processes per build [default: 512].
    #[arg(long, env = "SHIPYARD_BUILD_PIDS")]
    pub build_pids: Option<u64>,
    /// Releases kept per environment; older ones lose their artifact [default: 10].
    #[arg(long, env = "SHIPYARD_RELEASE_RETENTION")]
    pub release_retention: Option<i64>,
    /// Time of day (HH:MM, server time) every database's daily backup is taken [default: 03:00].
    #[arg(long, env = "SHIPYARD_BACKUP_AT")]
    pub backup_at: Option<String>,
    /// Daily backups kept per database; manual ones stay until deleted [default: 7].
    #[arg(long, env = "SHIPYARD_BACKUP_RETENTION")]
    pub backup_retention: Option<u32>,
    /// Run builds without bubblewrap (says so loudly) [default: false].
    #[arg(long, env = "SHIPYARD_INSECURE_NO_SANDBOX", num_args = 0..=1, default_missing_value = "true")]
    pub insecure_no_sandbox: Option<bool>,
    /// How sandboxes reach the network: `kernel` (a veth pair each), `pasta` (a relay process each) or `auto` [default: auto, the kernel's where the host allows].
    #[arg(long, env = "SHIPYARD_SANDBOX_NETWORK")]
    pub sandbox_network: Option<String>,
    /// CIDRs of proxies whose X-Forwarded-For is believed, comma-separated [default: none].
    #[arg(long, env = "SHIPYARD_TRUSTED_PROXY")]
    pub trusted_proxy: Option<String>,
    /// `ip:port` of the DNS resolver that verifies custom domains [default: the system's, from /etc/resolv.conf].
    #[arg(long, env = "SHIPYARD_DNS_RESOLVER")]
    pub dns_resolver: Option<SocketAddr>,
    /// This server's public addresses, comma-separated: the A/AAAA records custom domains should name [default: none].
    #[arg(long, env = "SHIPYARD_PUBLIC_ADDRESS")]
    pub public_address: Option<String>,
    /// Where the cgroup hierarchies are mounted [default: /sys/fs/cgroup].
    #[arg(long, env = "SHIPYARD_CGROUP_ROOT")]
    pub cgroup_root: Option<PathBuf>,
    /// The uids projects' sandboxes run as, one per project, e.g. `1500000-1599999` [default: 1500000-1599999].
    #[arg(long, env = "SHIPYARD_SANDBOX_UIDS")]
    pub sandbox_uids: Option<String>,
}

/// The TOML file: the same settings, keyed by flag name.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    platform_host: Option<String>,
    apps_domain: Option<String>,
    listen_tls: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    hsts_max_age: Option<u64>,
    acme_directory: Option<String>,
    acme_email: Option<String>,
    acme_ca_root: Option<PathBuf>,
    acme_live_hosts: Option<bool>,
    renew_before: Option<String>,
    allow_signup: Option<bool>,
    allow_local_repos: Option<bool>,
    local_repos_root: Option<PathBuf>,
    postgres_root: Option<PathBuf>,
    build_concurrency: Option<usize>,
    build_timeout: Option<String>,
    health_timeout: Option<String>,
    go_live_watch: Option<String>,
    header_timeout: Option<String>,
    idle_timeout: Option<String>,
    build_memory: Option<String>,
    build_disk: Option<String>,
    artifact_max: Option<String>,
    access_log_buffer: Option<String>,
    log_bytes_per_workspace: Option<String>,
    edge_workers: Option<usize>,
    max_connections: Option<usize>,
    max_connections_per_client: Option<usize>,
    build_pids: Option<u64>,
    release_retention: Option<i64>,
    backup_at: Option<String>,
    backup_retention: Option<u32>,
    insecure_no_sandbox: Option<bool>,
    sandbox_network: Option<String>,
    trusted_proxy: Option<String>,
    dns_resolver: Option<SocketAddr>,
    public_address: Option<String>,
    cgroup_root: Option<PathBuf>,
    sandbox_uids: Option<String>,
}

impl ServeArgs {
    /// Merges flags and environment (already merged by clap) over the file over the defaults.
    pub fn resolve(self) -> anyhow::Result<Settings> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let settings = Settings {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir: self
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./shipyard-data")),
            platform_host: hostname("platform-host", self.platform_host.or(file.platform_host))?,
            apps_domain: hostname("apps-domain", self.apps_domain.or(file.apps_domain))?,
            tls: settings::tls(
                self.listen_tls.or(file.listen_tls),
                self.tls_cert.or(file.tls_cert),
                self.tls_key.or(file.tls_key),
                self.hsts_max_age.or(file.hsts_max_age),
            )?,
            acme: settings::acme(
                self.acme_directory.or(file.acme_directory),
                self.acme_email.or(file.acme_email),
                self.acme_ca_root.or(file.acme_ca_root),
                self.renew_before.or(file.renew_before),
                self.acme_live_hosts.or(file.acme_live_hosts).unwrap_or(false),
            )?,
            allow_signup: self.allow_signup.or(file.allow_signup).unwrap_or(false),
            allow_local_repos: self.allow_local_repos.or(file.allow_local_repos).unwrap_or(true),
            local_repos_root: match self.local_repos_root.or(file.local_repos_root) {
                Some(dir) => Some(
                    std::fs::canonicalize(&dir)
                        .with_context(|| format!("--local-repos-root {} cannot be opened", dir.display()))?,
                ),
                None => None,
            },
            postgres_root: self
                .postgres_root
                .or(file.postgres_root)
                .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql")),
            build_concurrency: match self.build_concurrency.or(file.build_concurrency) {
                Some(0) => bail!("--build-concurrency must be at least 1"),
                Some(n) => n,
                None => std::thread::available_parallelism().map_or(1, usize::from),
            },
            build_timeout: duration(
                "build-timeout",
                self.build_timeout.or(file.build_timeout).as_deref().unwrap_or("15m"),
            )?,
            health_timeout: duration_at_most(
                "health-timeout",
                self.health_timeout.or(file.health_timeout).as_deref().unwrap_or("60s"),
                "10m",
            )?,
            go_live_watch: watch_window(self.go_live_watch.or(file.go_live_watch).as_deref().unwrap_or("2m"))?,
            header_timeout: duration_at_most(
                "header-timeout",
                self.header_timeout.or(file.header_timeout).as_deref().unwrap_or("30s"),
                "10m",
            )?,
            idle_timeout: duration_at_most(
                "idle-timeout",
                self.idle_timeout.or(file.idle_timeout).as_deref().unwrap_or("60s"),
                "1h",
            )?,
            build_memory: bytes(
                "build-memory",
                self.build_memory.or(file.build_memory).as_deref().unwrap_or("2GiB"),
                "64MiB",
            )?,
            build_disk: bytes(
                "build-disk",
                self.build_disk.or(file.build_disk).as_deref().unwrap_or("10GiB"),
                "64MiB",
            )?,
            artifact_max: bytes(
                "artifact-max",
                self.artifact_max.or(file.artifact_max).as_deref().unwrap_or("2GiB"),
                "1MiB",
            )?,
            access_log_buffer: bytes(
                "access-log-buffer",
                self.access_log_buffer
                    .or(file.access_log_buffer)
                    .as_deref()
                    .unwrap_or("16MiB"),
                "64KiB",
            )?,
            log_bytes_per_workspace: bytes(
                "log-bytes-per-workspace",
                self.log_bytes_per_workspace
                    .or(file.log_bytes_per_workspace)
                    .as_deref()
                    .unwrap_or("2GiB"),
                "1MiB",
            )?,
            edge_workers: match self.edge_workers.or(file.edge_workers) {
                Some(n @ 1..=256) => std::num::NonZeroUsize::new(n).unwrap_or(std::num::NonZeroUsize::MIN),
                Some(_) => bail!("--edge-workers must be between 1 and 256"),
                None => std::thread::available_parallelism().unwrap_or(std::num::NonZeroUsize::MIN),
            },
            max_connections: match self.max_connections.or(file.max_connections).unwrap_or(16_384) {
                n @ 16..=1_000_000 => n,
                _ => bail!("--max-connections must be between 16 and 1000000"),
            },
            max_connections_per_client: match self
                .max_connections_per_client
                .or(file.max_connections_per_client)
                .unwrap_or(256)
            {
                n @ 1..=1_000_000 => n,
                _ => bail!("--max-connections-per-client must be between 1 and 1000000"),
            },
            build_pids: match self.build_pids.or(file.build_pids).unwrap_or(512) {
                n @ 16..=1_000_000 => n,
                _ => bail!("--build-pids must be between 16 and 1000000"),
            },
            release_retention: match self.release_retention.or(file.release_retention).unwrap_or(10) {
                n @ 1..=1000 => n,
                _ => bail!("--release-retention must be between 1 and 1000"),
            },
            backup_schedule: shipyard_databases::backup::schedule::Schedule {
                at: match self.backup_at.or(file.backup_at) {
                    None => shipyard_databases::backup::schedule::Schedule::default().at,
                    Some(text) => shipyard_databases::backup::schedule::parse_at(&text).with_context(|| {
                        format!("--backup-at must be a time of day as HH:MM (24-hour), not `{text}`")
                    })?,
                },
                retention: match self.backup_retention.or(file.backup_retention).unwrap_or(7) {
                    n @ 1..=1000 => n,
                    _ => bail!("--backup-retention must be between 1 and 1000"),
                },
            },
            insecure_no_sandbox: self.insecure_no_sandbox.or(file.insecure_no_sandbox).unwrap_or(false),
            sandbox_network: match self.sandbox_network.as_deref().or(file.sandbox_network.as_deref()) {
                None | Some("auto") => shipyard_sandbox::UplinkChoice::Auto,
                Some("kernel") => shipyard_sandbox::UplinkChoice::Kernel,
                Some("pasta") => shipyard_sandbox::UplinkChoice::Pasta,
                Some(other) => bail!("--sandbox-network must be auto, kernel or pasta, not {other:?}"),
            },
            trusted_proxies: cidrs(self.trusted_proxy.or(file.trusted_proxy).as_deref().unwrap_or(""))?,
            dns_resolver: self.dns_resolver.or(file.dns_resolver),
            public_addresses: addresses(self.public_address.or(file.public_address).as_deref().unwrap_or(""))?,
            cgroup_root: self
                .cgroup_root
                .or(file.cgroup_root)
                .unwrap_or_else(|| PathBuf::from("/sys/fs/cgroup")),
            sandbox_uids: uid_range(
                self.sandbox_uids
                    .or(file.sandbox_uids)
                    .as_deref()
                    .unwrap_or("1500000-1599999"),
            )?,
        };
        Ok(settings)
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("config file {}", path.display()))
}

#[cfg(test)]
mod tests;
