//! One build step: spawn it in the sandbox, stream its output line by line through the
//! redactor, and end it on success, failure, timeout or cancel, whole process tree included.

use super::layout::step_command;
use shipyard_core::{LineRedactor, Redactor, SecretString};
use shipyard_sandbox::{LimitGroup, Sandbox};
use std::os::unix::process::ExitStatusExt;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Longest stored line; longer output is split, never dropped.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// A line of a step's output, already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// From stderr rather than stdout.
    pub stderr: bool,
    /// The text.
    pub text: String,
}

/// Where and with what a step runs.
#[derive(Debug, Clone, Default)]
pub struct StepContext {
    /// The build workspace (`src/` and `home/` inside).
    pub ws: std::path::PathBuf,
    /// Working directory relative to the app root.
    pub workdir: String,
    /// Environment (secrets, tool settings); every value is kept as a secret, so no
    /// `Debug` of a context or a step shows one.
    pub env: Vec<(String, SecretString)>,
    /// Directories first on PATH (provided package managers).
    pub path: Vec<String>,
    /// The project's package-cache directory on the host.
    pub cache: Option<std::path::PathBuf>,
    /// The build's package manager: only its own cache settings are set (npm warns about
    /// every setting it does not know, such as pnpm's `store-dir`).
    pub manager: Option<shipyard_core::PackageManager>,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// It exited with this code (0 is success).
    Exited(i32),
    /// A signal ended it.
    Signaled(i32),
    /// It ran past the deadline and was killed.
    TimedOut,
    /// A user canceled it and it was killed.
    Canceled,
    /// It hit the memory limit and was killed.
    OutOfMemory,
    /// It tried to run more processes at once than allowed (a fork bomb) and was stopped.
    TooManyProcesses,
    /// It could not be started.
    SpawnFailed(String),
}

impl StepOutcome {
    /// Whether the step succeeded.
    pub fn success(&self) -> bool {
        *self == StepOutcome::Exited(0)
    }
}

async fn pump(mut reader: impl AsyncRead + Unpin, stderr: bool, redactor: Redactor, out: mpsc::Sender<OutputLine>) {
    let mut lines = LineRedactor::new(redactor, MAX_LINE_BYTES);
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for text in lines.push(&buf[..n]) {
            if out.send(OutputLine { stderr, text }).await.is_err() {
                return;
            }
        }
    }
    if let Some(text) = lines.flush() {
        let _ = out.send(OutputLine { stderr, text }).await;
    }
}

/// Resolves once a fork in `group` was refused for its process limit. A fork bomb is stopped
/// at once rather than left to spin until its deadline; a build that merely touches the limit
/// would fail on the refused fork anyway, and this way it fails saying why.
async fn process_limit_hit(group: Option<&LimitGroup>) {
    let Some(group) = group else {
        return std::future::pending().await;
    };
    while !group.hit_process_limit() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Runs `script` as `ctx` says; output goes to `out` as redacted lines.
pub async fn run_step(
    sandbox: &Sandbox,
    ctx: &StepContext,
    script: &str,
    redactor: &Redactor,
    out: &mpsc::Sender<OutputLine>,
    cancel: &mut watch::Receiver<bool>,
    deadline: Instant,
) -> StepOutcome {
    let name = ctx
        .ws
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "build".into());
    let group = match sandbox.limit_group(&name) {
        Ok(group) => group,
        Err(e) => return StepOutcome::SpawnFailed(format!("cannot set resource limits: {e}")),
    };
    let command = match step_command(sandbox, ctx, script, group.as_ref()) {
        Ok(command) => command,
        Err(e) => return StepOutcome::SpawnFailed(e.to_string()),
    };
    let mut child = match command.spawn().await {
        Ok(child) => child,
        Err(e) => return StepOutcome::SpawnFailed(e.to_string()),
    };
    let readers = [
        child
            .stdout
            .take()
            .map(|r| tokio::spawn(pump(r, false, redactor.clone(), out.clone()))),
        child
            .stderr
            .take()
            .map(|r| tokio::spawn(pump(r, true, redactor.clone(), out.clone()))),
    ];
    let outcome = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => match (status.code(), status.signal()) {
                (Some(code), _) => StepOutcome::Exited(code),
                (None, Some(signal)) => StepOutcome::Signaled(signal),
                (None, None) => StepOutcome::Signaled(0),
            },
            Err(e) => StepOutcome::SpawnFailed(e.to_string()),
        },
        () = tokio::time::sleep_until(deadline) => StepOutcome::TimedOut,
        () = async { while cancel.changed().await.is_ok() { if *cancel.borrow() { return; } } std::future::pending::<()>().await } => StepOutcome::Canceled,
        () = process_limit_hit(group.as_ref()) => StepOutcome::TooManyProcesses,
    };
    if !matches!(outcome, StepOutcome::Exited(_) | StepOutcome::Signaled(_)) {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    if let Some(group) = &group {
        // Whatever escaped the process tree (a daemonised child) is still in the group.
        group.kill_everyone().await;
    }
    for reader in readers.into_iter().flatten() {
        let _ = reader.await;
    }
    let outcome = match (&outcome, &group) {
        // The kernel kills the process that hit the limit; the shell around it reports 128 + 9.
        (StepOutcome::Signaled(9) | StepOutcome::Exited(137), Some(group)) if group.hit_memory_limit() => {
            StepOutcome::OutOfMemory
        }
        // A step that failed after a refused fork failed because of it.
        (StepOutcome::Exited(code), Some(group)) if *code != 0 && group.hit_process_limit() => {
            StepOutcome::TooManyProcesses
        }
        _ => outcome,
    };
    if let Some(group) = group {
        group.remove();
    }
    outcome
}
