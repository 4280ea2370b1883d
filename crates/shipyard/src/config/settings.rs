//! The resolved settings of a server, and the checks of those that go together.

use anyhow::bail;
use ipnet::IpNet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The resolved settings of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Listener address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Platform host.
    pub platform_host: String,
    /// Apps domain.
    pub apps_domain: String,
    /// The HTTPS listener and its certificates.
    pub tls: TlsSettings,
    /// Where certificates of verified custom domains come from.
    pub acme: AcmeSettings,
    /// Signup stays open.
    pub allow_signup: bool,
    /// `file://` repositories are accepted.
    pub allow_local_repos: bool,
    /// Where `file://` repositories must lie, when named (canonical).
    pub local_repos_root: Option<PathBuf>,
    /// Where PostgreSQL's majors are installed.
    pub postgres_root: PathBuf,
    /// Builds at once.
    pub build_concurrency: usize,
    /// Wall clock per build.
    pub build_timeout: Duration,
    /// How long a new release has to answer its health check.
    pub health_timeout: Duration,
    /// How long after go-live a crash loop rolls a release back (zero: never).
    pub go_live_watch: Duration,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a request body, an app's answer or a joined connection may go without a byte.
    pub idle_timeout: Duration,
    /// Memory per build in bytes.
    pub build_memory: u64,
    /// Bytes of one project's build disk.
    pub build_disk: u64,
    /// Bytes of the largest release.
    pub artifact_max: u64,
    /// Bytes of access-log entries that may wait to be stored.
    pub access_log_buffer: u64,
    /// Bytes of log text one workspace keeps.
    pub log_bytes_per_workspace: u64,
    /// Threads serving the listener's connections.
    pub edge_workers: std::num::NonZeroUsize,
    /// Open connections the listener holds in all.
    pub max_connections: usize,
    /// Open connections from one client.
    pub max_connections_per_client: usize,
    /// Processes per build.
    pub build_pids: u64,
    /// Releases kept per environment.
    pub release_retention: i64,
    /// When daily backups are taken and how many are kept.
    pub backup_schedule: shipyard_databases::backup::schedule::Schedule,
    /// Builds run unconfined.
    pub insecure_no_sandbox: bool,
    /// How sandboxes reach the network.
    pub sandbox_network: shipyard_sandbox::UplinkChoice,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    /// The resolver custom domains are verified through (None: the system's).
    pub dns_resolver: Option<SocketAddr>,
    /// This server's public addresses.
    pub public_addresses: Vec<std::net::IpAddr>,
    /// Where the cgroup hierarchies are mounted.
    pub cgroup_root: PathBuf,
    /// The uids projects' sandboxes run as.
    pub sandbox_uids: std::ops::RangeInclusive<u32>,
}

/// The HTTPS listener's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// Where it listens (None: no HTTPS).
    pub listen: Option<SocketAddr>,
    /// The operator's certificate and key files, when given.
    pub given: Option<(PathBuf, PathBuf)>,
    /// `Strict-Transport-Security: max-age` of HTTPS answers (0: none).
    pub hsts_max_age: u64,
}

/// The HTTPS settings, refusing a certificate without its key (or the other way round), and
/// either without a listener to present them.
pub(super) fn tls(
    listen: Option<SocketAddr>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    hsts_max_age: Option<u64>,
) -> anyhow::Result<TlsSettings> {
    let given = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => bail!("--tls-cert needs --tls-key (the certificate's private key)"),
        (None, Some(_)) => bail!("--tls-key needs --tls-cert (the certificate it signs for)"),
    };
    if given.is_some() && listen.is_none() {
        bail!("--tls-cert is presented by the HTTPS listener: set --listen-tls too (e.g. 0.0.0.0:443)");
    }
    let hsts_max_age = match hsts_max_age.unwrap_or(31_536_000) {
        n @ 0..=63_072_000 => n,
        _ => bail!("--hsts-max-age must be between 0 and 63072000 (two years)"),
    };
    Ok(TlsSettings {
        listen,
        given,
        hsts_max_age,
    })
}

/// Where certificates of verified custom domains come from (used with `--listen-tls`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The CA's directory URL.
    pub directory: String,
    /// The account's contact address.
    pub email: Option<String>,
    /// The only root trusted for the CA's own HTTPS.
    pub ca_root: Option<PathBuf>,
    /// Renew once less than this is left.
    pub renew_before: Duration,
    /// Live hosts get certificates of their own too.
    pub live_hosts: bool,
}

/// The ACME settings: an `https://` directory (ACME requires it), an address that looks like
/// one, a CA root that can be read.
pub(super) fn acme(
    directory: Option<String>,
    email: Option<String>,
    ca_root: Option<PathBuf>,
    renew_before: Option<String>,
    live_hosts: bool,
) -> anyhow::Result<AcmeSettings> {
    let directory = directory.unwrap_or_else(|| shipyard_domains::acme::LETS_ENCRYPT.to_owned());
    let parsed =
        url::Url::parse(&directory).map_err(|e| anyhow::anyhow!("--acme-directory {directory:?} is not a URL: {e}"))?;
    if parsed.scheme() != "https" {
        bail!("--acme-directory must be an https:// URL, not {directory:?}");
    }
    if let Some(email) = &email
        && (email.contains(char::is_whitespace) || !email.contains('@'))
    {
        bail!("--acme-email must be an email address, not {email:?}");
    }
    if let Some(root) = &ca_root
        && let Err(e) = std::fs::metadata(root)
    {
        bail!("--acme-ca-root {} cannot be read: {e}", root.display());
    }
    Ok(AcmeSettings {
        directory,
        email,
        ca_root,
        renew_before: super::values::renew_before(renew_before.as_deref().unwrap_or("0"))?,
        live_hosts,
    })
}
