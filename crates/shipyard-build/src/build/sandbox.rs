//! The build sandbox: bubblewrap with new pid, ipc and uts namespaces, the host read-only,
//! the data directory (database, master key, other builds) replaced by an empty tmpfs, and
//! only the build's own directories writable, run as an unprivileged user. The app is always
//! at `/srv/app` inside, so paths baked in at build time (a Python venv) hold at run time.

use super::limiter::{LimitGroup, Limiter, Limits};
use super::step::StepContext;
use shipyard_core::ExposeSecret;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use thiserror::Error;

/// Where the app's directory appears inside the sandbox.
pub const APP_DIR: &str = "/srv/app";
/// Where the build's home directory appears inside the sandbox.
pub const HOME_DIR: &str = "/home/build";
/// Where the project's package caches appear inside the sandbox.
pub const CACHE_DIR: &str = "/home/build/.shipyard-cache";
/// Host settings builds inherit: trust anchors and proxies. A host behind a TLS-inspecting
/// proxy or a private registry mirror must hand these to package managers, or every
/// install fails on certificates.
const INHERITED_ENV: &[&str] = &[
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "PIP_CERT",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
];

/// The unprivileged account builds run as when Shipyard runs as root.
const BUILD_USER: &str = "shipyard-build";

/// Why the sandbox cannot be used.
#[derive(Debug, Error)]
pub enum SandboxError {
    /// bubblewrap is not installed.
    #[error(
        "bubblewrap is not installed: install the `bubblewrap` package (apt-get install bubblewrap), or start with --insecure-no-sandbox to run builds unconfined"
    )]
    BwrapMissing,
    /// It is installed but cannot create namespaces here.
    #[error(
        "bubblewrap cannot create a sandbox on this host ({0}); start with --insecure-no-sandbox to run builds unconfined"
    )]
    Unusable(String),
    /// The unprivileged build user cannot be made.
    #[error("cannot set up the build user `shipyard-build`: {0}")]
    User(String),
}

#[derive(Debug, Clone)]
enum Isolation {
    Bubblewrap { user: Option<(u32, u32)> },
    None,
}

/// How builds are confined on this host.
#[derive(Debug, Clone)]
pub struct Sandbox {
    isolation: Isolation,
    limiter: Limiter,
    limits: Limits,
    hidden: Vec<PathBuf>,
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

/// The build user's uid and gid, made when missing (only possible as root).
fn build_user() -> Result<Option<(u32, u32)>, SandboxError> {
    if output("id", &["-u"]).as_deref() != Some("0") {
        return Ok(None);
    }
    if output("id", &["-u", BUILD_USER]).is_none() {
        let made = std::process::Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                BUILD_USER,
            ])
            .output()
            .map_err(|e| SandboxError::User(e.to_string()))?;
        if !made.status.success() {
            return Err(SandboxError::User(
                String::from_utf8_lossy(&made.stderr).trim().to_owned(),
            ));
        }
    }
    let uid = output("id", &["-u", BUILD_USER]).and_then(|u| u.parse().ok());
    let gid = output("id", &["-g", BUILD_USER]).and_then(|g| g.parse().ok());
    match (uid, gid) {
        (Some(uid), Some(gid)) => Ok(Some((uid, gid))),
        _ => Err(SandboxError::User("id did not report the user".into())),
    }
}

impl Sandbox {
    /// Sets up confinement, hiding `hidden` (the data directory) from builds. Without
    /// bubblewrap this fails unless `insecure` allows unconfined builds.
    pub fn detect(hidden: &[PathBuf], insecure: bool, limits: Limits) -> Result<Self, SandboxError> {
        let instance = hidden.first().map_or(0u64, |path| {
            path.to_string_lossy()
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
        });
        let limiter = Limiter::detect(Path::new("/sys/fs/cgroup"), &format!("{instance:016x}"));
        let unconfined = || Sandbox {
            isolation: Isolation::None,
            limiter: limiter.clone(),
            limits,
            hidden: hidden.to_vec(),
        };
        if insecure {
            return Ok(unconfined());
        }
        if output("bwrap", &["--version"]).is_none() {
            return Err(SandboxError::BwrapMissing);
        }
        let user = build_user()?;
        let sandbox = Sandbox {
            isolation: Isolation::Bubblewrap { user },
            limiter,
            limits,
            hidden: hidden.to_vec(),
        };
        let mut probe = sandbox.base_command(Path::new("/"), None);
        probe.args(["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "true"]);
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
        let who = match &self.isolation {
            Isolation::Bubblewrap { user: Some(_) } => format!("builds run as `{BUILD_USER}` under bubblewrap"),
            Isolation::Bubblewrap { user: None } => "builds run under bubblewrap as the server's user".to_owned(),
            Isolation::None => "INSECURE: builds run unconfined (--insecure-no-sandbox)".to_owned(),
        };
        format!("{who}; {}", self.limiter.describe(self.limits))
    }

    /// The uid builds run as, when it differs from the server's.
    pub fn uid(&self) -> Option<u32> {
        match self.isolation {
            Isolation::Bubblewrap { user: Some((uid, _)) } => Some(uid),
            _ => None,
        }
    }

    /// The (uid, gid) builds run as, when it differs from the server's.
    pub fn user(&self) -> Option<(u32, u32)> {
        match self.isolation {
            Isolation::Bubblewrap { user } => user,
            Isolation::None => None,
        }
    }

    /// Removes what builds of a previous run of the server left in the limit groups.
    pub fn remove_stale_groups(&self) {
        self.limiter.remove_stale_groups();
    }

    /// Makes the limit groups of one run.
    pub fn limit_group(&self, name: &str) -> std::io::Result<Option<LimitGroup>> {
        self.limiter.prepare(name, self.limits, self.uid())
    }

    /// The command that joins `group`, then (under bubblewrap) enters the sandbox; the caller
    /// appends the sandbox arguments.
    fn base_command(&self, cwd: &Path, group: Option<&LimitGroup>) -> tokio::process::Command {
        // `sh` moves itself into the limit groups before `exec`, so nothing the build starts
        // can escape them by forking early.
        let mut cmd = tokio::process::Command::new("sh");
        cmd.arg("-c")
            .arg("for f in \"$@\"; do [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; shift; done; shift; exec \"$@\"")
            .arg("sh");
        for file in group.map(LimitGroup::procs_files).unwrap_or_default() {
            cmd.arg(file);
        }
        cmd.arg("--");
        if let Isolation::Bubblewrap { user } = self.isolation {
            if let Some((uid, gid)) = user {
                cmd.uid(uid).gid(gid);
            }
            cmd.args([
                "bwrap",
                "--die-with-parent",
                "--new-session",
                "--unshare-pid",
                "--unshare-ipc",
                "--unshare-uts",
            ]);
        }
        cmd.current_dir(cwd);
        cmd
    }

    /// Where the app root, the home and the cache appear to a build.
    pub fn paths(&self, ws: &Path, cache: Option<&Path>) -> (PathBuf, PathBuf, Option<PathBuf>) {
        match self.isolation {
            Isolation::Bubblewrap { .. } => (
                PathBuf::from(APP_DIR),
                PathBuf::from(HOME_DIR),
                cache.map(|_| PathBuf::from(CACHE_DIR)),
            ),
            Isolation::None => (ws.join("src"), ws.join("home"), cache.map(Path::to_owned)),
        }
    }

    /// The command that runs `script` in the workspace `ws` (holding `src/` and `home/`), in
    /// `workdir` (relative to the app root), with exactly `env`, `path` first on PATH, and
    /// `cache` (the project's package caches) mounted.
    pub fn command(&self, ctx: &StepContext, script: &str, group: Option<&LimitGroup>) -> tokio::process::Command {
        let ws = ctx.ws.as_path();
        let src = ws.join("src");
        let home = ws.join("home");
        let (app, home_in, cache_in) = self.paths(ws, ctx.cache.as_deref());
        let workdir_in = if ctx.workdir.is_empty() {
            app.clone()
        } else {
            app.join(&ctx.workdir)
        };
        let mut cmd = self.base_command(Path::new("/"), group);
        if let Isolation::Bubblewrap { .. } = self.isolation {
            cmd.args([
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--tmpfs",
                "/tmp",
            ]);
            cmd.args(["--tmpfs", "/root", "--tmpfs", "/home", "--tmpfs", "/srv"]);
            for hidden in &self.hidden {
                cmd.arg("--tmpfs").arg(hidden);
            }
            cmd.arg("--bind").arg(&src).arg(&app);
            cmd.arg("--bind").arg(&home).arg(&home_in);
            if let (Some(cache), Some(cache_in)) = (&ctx.cache, &cache_in) {
                cmd.arg("--bind").arg(cache).arg(cache_in);
            }
            cmd.arg("--chdir").arg(&workdir_in).arg("--");
        } else {
            cmd.current_dir(&workdir_in);
        }
        cmd.args(["sh", "-c", script]);
        cmd.env_clear();
        let mut path: Vec<String> = ctx.path.clone();
        path.push(app.join(".venv/bin").display().to_string());
        path.push("/usr/local/bin:/usr/bin:/bin".to_owned());
        cmd.env("PATH", path.join(":"));
        if let Some(cache_in) = &cache_in {
            let c = cache_in.display();
            for (key, sub) in [
                ("npm_config_cache", "npm"),
                ("npm_config_store_dir", "pnpm-store"),
                ("YARN_CACHE_FOLDER", "yarn"),
                ("BUN_INSTALL_CACHE_DIR", "bun"),
                ("PIP_CACHE_DIR", "pip"),
                ("UV_CACHE_DIR", "uv"),
                ("POETRY_CACHE_DIR", "poetry"),
            ] {
                cmd.env(key, format!("{c}/{sub}"));
            }
        }
        cmd.env("HOME", &home_in);
        cmd.env("LANG", "C.UTF-8");
        cmd.env("npm_config_update_notifier", "false");
        cmd.env("npm_config_fund", "false");
        cmd.env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
        for key in INHERITED_ENV {
            if let Ok(value) = std::env::var(key) {
                cmd.env(key, value);
            }
        }
        cmd.envs(ctx.env.iter().map(|(k, v)| (k.as_str(), v.expose_secret())));
        cmd.env("CI", "true");
        cmd
    }
}
