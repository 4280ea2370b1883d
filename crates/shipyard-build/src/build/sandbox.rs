//! The build sandbox: bubblewrap with new pid, ipc and uts namespaces, the host read-only,
//! the data directory (database, master key, other builds) replaced by an empty tmpfs, and
//! only the build's own directories writable, run as an unprivileged user. The app is always
//! at `/srv/app` inside, so paths baked in at build time (a Python venv) hold at run time.

use super::limiter::{LimitGroup, Limiter, Limits};
use super::step::StepContext;
use shipyard_core::{ExposeSecret, SecretString};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
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
    /// `cache` (the project's package caches) mounted. Under bubblewrap the host-side
    /// processes (the limit-group `sh` and `bwrap`) get a fixed minimal environment, and the
    /// build's environment and mounts reach bwrap only through `stdin_args` (for `--args 0`),
    /// so no secret is in a host-side process's argv or environ.
    pub fn command(&self, ctx: &StepContext, script: &str, group: Option<&LimitGroup>) -> SandboxedCommand {
        let ws = ctx.ws.as_path();
        let (app, home_in, cache_in) = self.paths(ws, ctx.cache.as_deref());
        let workdir_in = if ctx.workdir.is_empty() {
            app.clone()
        } else {
            app.join(&ctx.workdir)
        };
        let env = self.environment(ctx, &app, &home_in, cache_in.as_deref());
        let mut cmd = self.base_command(Path::new("/"), group);
        cmd.env_clear();
        if let Isolation::Bubblewrap { .. } = self.isolation {
            cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").env("LANG", "C.UTF-8");
            cmd.args(["--args", "0"]);
            let mut inner: Vec<OsString> = vec!["--clearenv".into()];
            for (key, value) in &env {
                inner.extend(["--setenv".into(), key.into(), value.expose_secret().into()]);
            }
            inner.extend(self.base_view());
            inner.extend(["--bind".into(), ws.join("src").into(), app.clone().into()]);
            inner.extend(["--bind".into(), ws.join("home").into(), home_in.clone().into()]);
            if let (Some(cache), Some(cache_in)) = (&ctx.cache, &cache_in) {
                inner.extend(["--bind".into(), cache.into(), cache_in.into()]);
            }
            inner.extend(["--chdir".into(), workdir_in.into()]);
            // bwrap takes the command itself only from its real argv. The script is the
            // project's build config (members read it through the API), not a secret.
            cmd.args(["--", "sh", "-c", script]);
            return SandboxedCommand {
                command: cmd,
                stdin_args: Some(nul_joined(inner)),
            };
        }
        // Unconfined (--insecure-no-sandbox): there is no inside, so the build's environment is
        // the process's own, as that mode announces.
        cmd.current_dir(&workdir_in);
        cmd.args(["sh", "-c", script]);
        cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.expose_secret())));
        SandboxedCommand {
            command: cmd,
            stdin_args: None,
        }
    }

    /// The command that copies `source` (read-only) to `dest_dir/name` as the build user
    /// inside the sandbox, then refreshes the timestamp of `dest_dir/touch`. `dest_dir` is a
    /// directory tenants write (a project's cache): a link they planted there resolves inside
    /// the sandbox's view (the host read-only, their own cache), so the copy can never write
    /// through it into the host, as a root `cp` would.
    pub fn copy_command(&self, source: &Path, dest_dir: &Path, name: &str, touch: Option<&str>) -> SandboxedCommand {
        let (from, to) = match self.isolation {
            Isolation::Bubblewrap { .. } => (PathBuf::from("/srv/source"), PathBuf::from("/srv/dest")),
            Isolation::None => (source.to_owned(), dest_dir.to_owned()),
        };
        let mut script = String::from("cp -a \"$1\" \"$2/$3\"");
        if touch.is_some() {
            // The name comes from a link the tenant controls: a touch that fails is no failure.
            script.push_str(" && { touch -c \"$2/$4\" 2>/dev/null || true; }");
        }
        let mut cmd = self.base_command(Path::new("/"), None);
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C.UTF-8");
        let mut tail: Vec<OsString> = vec!["sh".into(), "-c".into(), script.into(), "copy".into()];
        tail.extend([
            from.clone().into(),
            to.clone().into(),
            name.into(),
            touch.unwrap_or("").into(),
        ]);
        let Isolation::Bubblewrap { .. } = self.isolation else {
            cmd.args(tail);
            return SandboxedCommand {
                command: cmd,
                stdin_args: None,
            };
        };
        cmd.args(["--args", "0", "--"]).args(tail);
        let mut inner: Vec<OsString> = vec![
            "--clearenv".into(),
            "--setenv".into(),
            "PATH".into(),
            "/usr/bin:/bin".into(),
        ];
        inner.extend(self.base_view());
        inner.extend(["--ro-bind".into(), source.into(), from.into()]);
        inner.extend(["--bind".into(), dest_dir.into(), to.into()]);
        SandboxedCommand {
            command: cmd,
            stdin_args: Some(nul_joined(inner)),
        }
    }

    /// Exactly the environment a build step gets: paths, caches, home, the host's trust
    /// anchors and proxies, the step's own variables (secrets among them), and `CI`.
    fn environment(
        &self,
        ctx: &StepContext,
        app: &Path,
        home_in: &Path,
        cache_in: Option<&Path>,
    ) -> Vec<(String, SecretString)> {
        let mut env: Vec<(String, SecretString)> = Vec::new();
        let mut set = |key: &str, value: String| env.push((key.to_owned(), SecretString::from(value)));
        let mut path: Vec<String> = ctx.path.clone();
        path.push(app.join(".venv/bin").display().to_string());
        path.push("/usr/local/bin:/usr/bin:/bin".to_owned());
        set("PATH", path.join(":"));
        if let Some(cache_in) = cache_in {
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
                set(key, format!("{c}/{sub}"));
            }
        }
        set("HOME", home_in.display().to_string());
        set("LANG", "C.UTF-8".to_owned());
        set("npm_config_update_notifier", "false".to_owned());
        set("npm_config_fund", "false".to_owned());
        set("PIP_DISABLE_PIP_VERSION_CHECK", "1".to_owned());
        for key in INHERITED_ENV {
            if let Ok(value) = std::env::var(key) {
                set(key, value);
            }
        }
        env.extend(ctx.env.iter().cloned());
        env.push(("CI".to_owned(), SecretString::from("true")));
        env
    }
}

impl Sandbox {
    /// What every sandbox sees before its own binds: the host read-only, fresh `/dev`,
    /// `/proc` and `/tmp`, and empty homes, `/srv` and data directory.
    fn base_view(&self) -> Vec<OsString> {
        let mut view: Vec<OsString> = [
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "--tmpfs",
            "/tmp",
        ]
        .into_iter()
        .map(OsString::from)
        .collect();
        for hidden in ["/root", "/home", "/srv"]
            .iter()
            .map(PathBuf::from)
            .chain(self.hidden.iter().cloned())
        {
            view.extend(["--tmpfs".into(), hidden.into_os_string()]);
        }
        view
    }
}

/// Arguments for bwrap's `--args`: each followed by a NUL.
fn nul_joined(args: Vec<OsString>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for arg in args {
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    bytes
}

impl SandboxedCommand {
    /// Spawns it with output discarded, hands bwrap its arguments, and waits; true on success.
    pub async fn succeeds(self) -> bool {
        let SandboxedCommand {
            command: mut cmd,
            stdin_args,
        } = self;
        cmd.stdin(if stdin_args.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
        let Ok(mut child) = cmd.spawn() else { return false };
        if let (Some(args), Some(mut stdin)) = (stdin_args, child.stdin.take()) {
            use tokio::io::AsyncWriteExt;
            if stdin.write_all(&args).await.is_err() {
                return false;
            }
        }
        child.wait().await.is_ok_and(|s| s.success())
    }
}

/// A sandboxed step ready to spawn: write `stdin_args` (when there are any) to its stdin
/// right after spawning; bubblewrap reads its arguments and the build's environment from there.
pub struct SandboxedCommand {
    /// The host-side command.
    pub command: tokio::process::Command,
    /// NUL-separated bubblewrap arguments for `--args 0`.
    pub stdin_args: Option<Vec<u8>>,
}
