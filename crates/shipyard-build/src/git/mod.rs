//! Git through the `git` CLI. Credentials reach git only through the environment of one
//! command (an askpass script reads the token; ssh gets a key file that lives for one
//! command): never in a URL, an argument, a config file or an error message.

mod auth;
mod mirror;
mod remote;

pub use auth::GitAuth;
pub use remote::{Branch, RemoteRefs};

use crate::child_output::bounded_output;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use thiserror::Error;

/// Why a git operation failed.
#[derive(Debug, Error)]
pub enum GitError {
    /// The `git` program is not installed.
    #[error("git is not installed on the server: install the `git` package (apt-get install git)")]
    NotInstalled,
    /// Git ran and refused; carries its own words (credentials removed).
    #[error("git said: {0}")]
    Remote(String),
    /// Git took too long.
    #[error("git did not finish within {0} s (is the remote reachable?)")]
    Timeout(u64),
    /// The branch does not exist in the repository.
    #[error("branch `{0}` does not exist in the repository")]
    UnknownBranch(String),
    /// The root directory does not exist at that commit.
    #[error("directory `{0}` does not exist in the repository at that commit")]
    RootNotFound(String),
    /// Git printed more than the platform reads from it.
    #[error("git printed more than {0} MiB; the repository has too many refs or files to read")]
    TooMuchOutput(usize),
    /// Local I/O failed (scratch files, spawning).
    #[error("local git I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The most of a git command's stdout the platform reads (ref lists, tree listings, blobs
/// for detection): a remote decides how much it sends.
const STDOUT_CAP: usize = 64 << 20;
/// The most of its stderr kept for the error message.
pub(crate) const STDERR_CAP: usize = 64 << 10;

/// The uid and gid local repositories are read as: `nobody`'s on Debian.
const LOCAL_READER: u32 = 65_534;

/// How a `file://` repository is read: its `git upload-pack` runs as `nobody` (`setpriv`), so
/// a tenant can name only what every user of the host may read, never a root-owned repository
/// such as etckeeper's `/etc/.git`. Any owner is safe then: the reader cannot write.
pub(crate) fn upload_pack_args(url: &shipyard_core::GitUrl) -> Vec<OsString> {
    if url.transport() != shipyard_core::GitTransport::File {
        return Vec::new();
    }
    vec![OsString::from(format!(
        "--upload-pack=setpriv --reuid={LOCAL_READER} --regid={LOCAL_READER} --clear-groups \
         git -c 'safe.directory=*' upload-pack"
    ))]
}

/// A failure to read a `file://` repository, with the reason it most often has: the same words
/// whether the path is missing or private, so nothing about the host is told.
pub(crate) fn explain_local(url: &shipyard_core::GitUrl, err: GitError) -> GitError {
    match err {
        GitError::Remote(said) if url.transport() == shipyard_core::GitTransport::File => GitError::Remote(format!(
            "{said} (local repositories are read as the unprivileged user nobody: the repository and every directory above it must be readable by all users)"
        )),
        other => other,
    }
}

/// Runs git commands for the platform.
#[derive(Debug, Clone)]
pub struct Git {
    askpass: PathBuf,
    scratch: PathBuf,
    timeout: Duration,
}

/// Where a git command runs and what it may use.
pub(crate) struct Invocation<'a> {
    pub args: Vec<OsString>,
    pub auth: &'a GitAuth,
    pub known_hosts: Option<&'a Path>,
}

impl Git {
    /// Prepares git support under `state_dir` (the askpass script and a scratch directory).
    pub fn new(state_dir: &Path) -> Result<Self, GitError> {
        let scratch = state_dir.join("tmp");
        std::fs::create_dir_all(&scratch)?;
        let askpass = auth::write_askpass(state_dir)?;
        Ok(Self {
            askpass,
            scratch,
            timeout: Duration::from_secs(120),
        })
    }

    /// The installed git's version line, or `NotInstalled`.
    pub fn version() -> Result<String, GitError> {
        let out = std::process::Command::new("git")
            .arg("--version")
            .output()
            .map_err(|_| GitError::NotInstalled)?;
        if !out.status.success() {
            return Err(GitError::NotInstalled);
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Runs one git command and returns its stdout.
    pub(crate) async fn run(&self, inv: Invocation<'_>) -> Result<Vec<u8>, GitError> {
        let session = auth::Session::prepare(inv.auth, &self.scratch, &self.askpass, inv.known_hosts)?;
        let mut cmd = tokio::process::Command::new("git");
        cmd.args(["-c", "credential.helper=", "-c", "core.askPass="])
            .args(&inv.args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        session.apply(&mut cmd);
        let child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => GitError::NotInstalled,
            _ => GitError::Io(e),
        })?;
        let output = tokio::time::timeout(self.timeout, bounded_output(child, STDOUT_CAP, STDERR_CAP))
            .await
            .map_err(|_| GitError::Timeout(self.timeout.as_secs()))??;
        if output.status.success() {
            if output.stdout_cut {
                return Err(GitError::TooMuchOutput(STDOUT_CAP >> 20));
            }
            return Ok(output.stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
            .collect::<Vec<_>>()
            .join(" ");
        let message = if message.is_empty() {
            format!("git exited with {}", output.status)
        } else {
            message
        };
        Err(GitError::Remote(inv.auth.redact(&message)))
    }
}
