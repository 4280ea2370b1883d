//! Bubblewrap as this host offers it: whether it can confine at all, the user, limit groups
//! and network namespace a sandboxed process gets, and the view every sandbox starts from
//! (`view`: only what builds and apps need of the host, never the data directory).

mod view;

use crate::identity::Identity;
use crate::limiter::{LimitGroup, Limiter, Limits};
use crate::network::{Forward, Network, NetworkError, NetworkPolicy, Uplink, UplinkChoice};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use thiserror::Error;

/// Why the sandbox cannot be used.
#[derive(Debug, Error)]
pub enum SandboxError {
    /// bubblewrap is not installed.
    #[error(
        "bubblewrap is not installed: install the `bubblewrap` package (apt-get install bubblewrap), or start with --insecure-no-sandbox to run builds unconfined"
    )]
    BwrapMissing,
    /// A tool the sandbox's network needs is not installed.
    #[error(
        "`{tool}` is not installed: install the `{package}` package (apt-get install {package}); every sandbox gets a network namespace of its own through it. Or start with --insecure-no-sandbox to run builds unconfined"
    )]
    ToolMissing {
        /// The command.
        tool: &'static str,
        /// Its Debian package.
        package: &'static str,
    },
    /// It is installed but cannot create namespaces here.
    #[error(
        "bubblewrap cannot create a sandbox on this host ({0}); start with --insecure-no-sandbox to run builds unconfined"
    )]
    Unusable(String),
    /// Not root: the sandbox's users and network namespaces cannot be made.
    #[error(
        "the sandbox needs root: every project runs as a user of its own in a network namespace of its own, which only root can set up; run `shipyard serve` as root, or start with --insecure-no-sandbox to run builds unconfined"
    )]
    NotRoot,
    /// No limiter: untrusted code would run without memory or process limits.
    #[error(
        "no resource limits can be enforced: {0}; untrusted code is not run without them (start with --insecure-no-sandbox to run builds unconfined and unlimited)"
    )]
    NoLimits(String),
    /// No disk image can be made and mounted: untrusted code could fill the host's disk.
    #[error(
        "disk limits cannot be enforced: {0}; every build disk and HOME is an ext4 image mounted through a loop device (the `loop` kernel module, `mkfs.ext4` from e2fsprogs, `mount` from util-linux), and untrusted code is not run without them (start with --insecure-no-sandbox to run builds unconfined and unlimited)"
    )]
    NoDiskLimits(String),
    /// An argument for bubblewrap holds a NUL, which would split it into options of its own.
    #[error("a sandbox argument contains a NUL byte: `{0}`")]
    Nul(String),
    /// The sandbox user's `/etc/passwd` could not be written.
    #[error("cannot prepare the sandbox's user files: {0}")]
    UserFiles(String),
    /// The network namespace could not be made.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

#[derive(Debug, Clone)]
pub(crate) enum Isolation {
    Bubblewrap,
    None,
}

/// What `Sandbox::detect` sets up from.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Paths builds must not see (the data directory, the work root).
    pub hidden: Vec<PathBuf>,
    /// Run unconfined (`--insecure-no-sandbox`).
    pub insecure: bool,
    /// Limits of each run.
    pub limits: Limits,
    /// Where the cgroup hierarchies are mounted (`--cgroup-root`, normally `/sys/fs/cgroup`).
    pub cgroup_root: PathBuf,
    /// A directory of the server's (readable by sandbox users) for the synthesized user files.
    pub state_dir: PathBuf,
    /// How sandboxes' traffic leaves (`--sandbox-network`).
    pub network: UplinkChoice,
}

/// How untrusted code is confined on this host; `for_project` binds it to one project's user
/// and network.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub(crate) isolation: Isolation,
    limiter: Limiter,
    limits: Limits,
    hidden: Vec<PathBuf>,
    policy: Option<NetworkPolicy>,
    /// Why the kernel's uplink was not used, when it was asked for by default and not usable.
    uplink_fallback: Option<String>,
    instance: String,
    state_dir: PathBuf,
    run_as: Identity,
    user_files: Option<(PathBuf, PathBuf)>,
    resolv_conf: Option<PathBuf>,
    netns: Option<PathBuf>,
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Writes `dir/name` (root's, world-readable: bubblewrap opens it as the sandbox's user),
/// replacing an older one atomically; returns its path.
pub(crate) fn write_root_file(dir: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new().recursive(true).mode(0o755).create(dir)?;
    // Only a directory of root's own holds these: nobody else may swap in a link.
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || std::os::unix::fs::MetadataExt::uid(&meta) != rustix::process::geteuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} is not a directory of the server's own",
            dir.display()
        )));
    }
    let path = dir.join(name);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
        // Unique per write: two builds of one project may write the same file at once.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}.{n}", std::process::id()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .mode(0o644)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

/// The network tools every confined sandbox needs, with their Debian packages.
const NETWORK_TOOLS: [(&str, &str, &str); 2] = [("nft", "--version", "nftables"), ("ip", "-V", "iproute2")];
/// The relay pasta's path needs.
const PASTA: (&str, &str, &str) = ("pasta", "--version", "passt");

/// `tool` (answering `flag` or `--help`), or the error naming its Debian `package`.
fn require((tool, flag, package): (&'static str, &str, &'static str)) -> Result<(), SandboxError> {
    if output(tool, &[flag]).is_none() && output(tool, &["--help"]).is_none() {
        return Err(SandboxError::ToolMissing { tool, package });
    }
    Ok(())
}

impl Sandbox {
    /// Sets up confinement. Without bubblewrap, the network tools, root or a limiter this
    /// fails (naming what is missing) unless `insecure` allows unconfined builds.
    pub fn detect(config: SandboxConfig) -> Result<Self, SandboxError> {
        let instance = config.hidden.first().map_or(0u64, |path| {
            path.to_string_lossy()
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        });
        let instance = format!("{instance:016x}");
        let limiter = Limiter::detect(&config.cgroup_root, &instance);
        let mut sandbox = Sandbox {
            isolation: Isolation::None,
            limiter,
            limits: config.limits,
            hidden: config.hidden,
            policy: None,
            uplink_fallback: None,
            instance,
            state_dir: config.state_dir,
            run_as: Identity::NOBODY,
            user_files: None,
            resolv_conf: None,
            netns: None,
        };
        if config.insecure {
            return Ok(sandbox);
        }
        if output("bwrap", &["--version"]).is_none() {
            return Err(SandboxError::BwrapMissing);
        }
        for tool in NETWORK_TOOLS {
            require(tool)?;
        }
        if output("id", &["-u"]).as_deref() != Some("0") {
            return Err(SandboxError::NotRoot);
        }
        if let Some(why) = sandbox.limiter.unusable() {
            return Err(SandboxError::NoLimits(why.to_owned()));
        }
        let (policy, fallback) = NetworkPolicy::detect_for(config.network)?;
        if policy.uplink() == Uplink::Pasta {
            require(PASTA)?;
        }
        sandbox.uplink_fallback = fallback;
        // The base view hides it; it must exist for that before the first namespace does.
        crate::network::prepare_dir()?;
        // Before the tmpfs: a refused start leaves nothing mounted.
        crate::disk::probe(&sandbox.state_dir).map_err(|e| SandboxError::NoDiskLimits(e.to_string()))?;
        // Two small files per project user: room for tens of thousands; pages are taken as used.
        crate::disk::ensure_tmpfs(&sandbox.state_dir, 256 << 20).map_err(|e| SandboxError::UserFiles(e.to_string()))?;
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        if let Some(text) = policy.resolv_conf(&host_resolv) {
            sandbox.resolv_conf = Some(
                write_root_file(&sandbox.state_dir, "resolv.conf", &text)
                    .map_err(|e| SandboxError::UserFiles(e.to_string()))?,
            );
        }
        sandbox.policy = Some(policy);
        sandbox.isolation = Isolation::Bubblewrap;
        // The probe sees what every sandbox sees (never the whole host, whose mounts may come
        // and go while they are copied).
        let mut probe = sandbox.base_command(Path::new("/"), None);
        probe.args(sandbox.base_view()).args(["--", "true"]);
        let status = probe.as_std_mut().stderr(Stdio::piped()).output();
        match status {
            Ok(out) if out.status.success() => Ok(sandbox),
            Ok(out) => Err(SandboxError::Unusable(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            )),
            Err(e) => Err(SandboxError::Unusable(e.to_string())),
        }
    }

    /// One line for the start-up banner: what is enforced.
    pub fn describe(&self) -> String {
        let uplink = match (self.policy.as_ref().map(NetworkPolicy::uplink), &self.uplink_fallback) {
            (Some(Uplink::Kernel), _) => "a veth pair routed by the kernel".to_owned(),
            (_, Some(why)) => format!("pasta; the kernel's routing was not used: {why}"),
            _ => "pasta".to_owned(),
        };
        let who = match &self.isolation {
            Isolation::Bubblewrap => format!(
                "builds run under bubblewrap as a user of their project's own, in a network namespace of their own ({uplink}; host loopback, its addresses and 169.254.0.0/16 refused)"
            ),
            Isolation::None => "INSECURE: builds run unconfined (--insecure-no-sandbox)".to_owned(),
        };
        format!("{who}; {}", self.limiter.describe(self.limits))
    }

    /// This sandbox for one project's processes: they run as `identity` (seeing `home` as its
    /// home in `/etc/passwd`), in `network` when given and with no network at all otherwise.
    pub fn for_project(
        &self,
        identity: Identity,
        home: &Path,
        network: Option<&Network>,
    ) -> Result<Sandbox, SandboxError> {
        let mut bound = self.clone();
        if !self.is_confined() {
            return Ok(bound);
        }
        bound.run_as = identity;
        bound.user_files = Some(
            identity
                .write_files(&self.state_dir.join("users"), home)
                .map_err(|e| SandboxError::UserFiles(e.to_string()))?,
        );
        bound.netns = network.map(|n| n.path().to_owned());
        Ok(bound)
    }

    /// A network namespace of its own for one run (`name` unique among the server's runs);
    /// `None` when unconfined, where processes share the host's network. Blocks while it is
    /// set up (tens of milliseconds).
    pub fn network(&self, name: &str) -> Result<Option<Network>, SandboxError> {
        self.network_forwarding(name, &[])
    }

    /// Like `network`, with `forwards` from the host's loopback in (an instance's port).
    pub fn network_forwarding(&self, name: &str, forwards: &[Forward]) -> Result<Option<Network>, SandboxError> {
        match (&self.isolation, &self.policy) {
            (Isolation::Bubblewrap, Some(policy)) => Ok(Some(
                policy
                    .refreshed()?
                    .create(&format!("{}{name}", self.netns_prefix()), forwards)?,
            )),
            _ => Ok(None),
        }
    }

    fn netns_prefix(&self) -> String {
        format!("shipyard-{}-", self.instance)
    }

    /// The (uid, gid) this sandbox's processes run as, when it differs from the server's.
    pub fn user(&self) -> Option<(u32, u32)> {
        match self.isolation {
            Isolation::Bubblewrap => Some((self.run_as.uid, self.run_as.gid)),
            Isolation::None => None,
        }
    }

    /// Removes what runs of a previous run of the server left: empty limit groups and network
    /// namespaces.
    pub fn remove_stale(&self) {
        self.limiter.remove_stale_groups();
        if self.is_confined() {
            NetworkPolicy::remove_stale(&self.netns_prefix());
        }
    }

    /// Removes this server's limit groups as it stops, once its runs have ended.
    pub fn remove_own_groups(&self) {
        self.limiter.remove_own_groups();
    }

    /// Makes the limit groups of one run.
    pub fn limit_group(&self, name: &str) -> std::io::Result<Option<LimitGroup>> {
        self.limiter.prepare(name, self.limits)
    }

    /// The limits each run gets.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// This sandbox with other limits for its runs (an app instance's own).
    pub fn with_limits(&self, limits: Limits) -> Sandbox {
        Sandbox { limits, ..self.clone() }
    }

    /// The command that joins `group`, then (under bubblewrap) enters the network namespace,
    /// drops to the sandbox's user and enters the sandbox; the caller appends the sandbox
    /// arguments.
    pub(crate) fn base_command(&self, cwd: &Path, group: Option<&LimitGroup>) -> tokio::process::Command {
        // `sh` (still root) moves itself into the limit groups before `exec`, so nothing the
        // build starts can escape them by forking early, and the groups need not be writable
        // by the sandbox's user (cgroup v2 would refuse that move anyway).
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg("for f in \"$@\"; do [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; shift; done; shift; exec \"$@\"")
            .arg("sh");
        for file in group.map(LimitGroup::procs_files).unwrap_or_default() {
            cmd.arg(file);
        }
        cmd.arg("--");
        // The open-files limit the server was started with, not the one it raised for itself.
        if let Some(prlimit) = crate::open_files::as_started() {
            cmd.args(prlimit).arg("--");
        }
        if let Isolation::Bubblewrap = self.isolation {
            cmd.arg("nsenter");
            if let Some(netns) = &self.netns {
                cmd.arg(format!("--net={}", netns.display()));
            }
            cmd.args([
                "--setuid",
                &self.run_as.uid.to_string(),
                "--setgid",
                &self.run_as.gid.to_string(),
                "--",
                "bwrap",
                "--die-with-parent",
                "--new-session",
                "--unshare-user",
                "--disable-userns",
                "--unshare-pid",
                "--unshare-ipc",
                "--unshare-uts",
            ]);
            if self.netns.is_none() {
                cmd.arg("--unshare-net");
            }
        }
        cmd.current_dir(cwd);
        cmd
    }

    /// Whether processes are confined (false only with `--insecure-no-sandbox`): then the
    /// paths inside a spec must be the host's own.
    pub fn is_confined(&self) -> bool {
        matches!(self.isolation, Isolation::Bubblewrap)
    }
}
