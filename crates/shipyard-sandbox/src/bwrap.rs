//! Bubblewrap as this host offers it: whether it can confine at all, the unprivileged user
//! sandboxed processes run as, the limit groups they join, and the view every sandbox starts
//! from (the host read-only, the data directory replaced by an empty tmpfs).

use crate::limiter::{LimitGroup, Limiter, Limits};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use thiserror::Error;

/// The unprivileged account sandboxed processes run as when Shipyard runs as root.
pub(crate) const BUILD_USER: &str = "shipyard-build";

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
    /// An argument for bubblewrap holds a NUL, which would split it into options of its own.
    #[error("a sandbox argument contains a NUL byte: `{0}`")]
    Nul(String),
    /// The unprivileged build user cannot be made.
    #[error("cannot set up the build user `shipyard-build`: {0}")]
    User(String),
}

#[derive(Debug, Clone)]
pub(crate) enum Isolation {
    Bubblewrap { user: Option<(u32, u32)> },
    None,
}

/// How builds are confined on this host.
#[derive(Debug, Clone)]
pub struct Sandbox {
    pub(crate) isolation: Isolation,
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
    pub(crate) fn base_command(&self, cwd: &Path, group: Option<&LimitGroup>) -> tokio::process::Command {
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

    /// Whether processes are confined (false only with `--insecure-no-sandbox`): then the
    /// paths inside a spec must be the host's own.
    pub fn is_confined(&self) -> bool {
        matches!(self.isolation, Isolation::Bubblewrap { .. })
    }
}

impl Sandbox {
    /// What every sandbox sees before its own binds: the host read-only, fresh `/dev`,
    /// `/proc` and `/tmp`, and empty homes, `/srv` and data directory.
    pub(crate) fn base_view(&self) -> Vec<OsString> {
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
