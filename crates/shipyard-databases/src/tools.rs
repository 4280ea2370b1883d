//! The server's own client programs (`pg_dump`, `pg_restore`) of the cluster's major version,
//! run in the cluster's sandbox as its uid, in a limit group of their own with its limits,
//! talking to its server over the unix socket as the platform's superuser.

use crate::cluster::Cluster;
use crate::conf::{CONTROL_INSIDE, INNER_PORT, SOCKET_DIR};
use crate::error::DatabaseError;
use command_fds::{CommandFdExt, FdMapping};
use shipyard_core::SecretString;
use shipyard_sandbox::{LimitGroup, Sandbox};
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr};
use tokio::task::JoinHandle;

/// The fd a tool's input reaches the sandbox on: stdin carries bubblewrap's arguments, so a
/// shell inside makes this fd the tool's stdin (`pg_restore` reads a pipe only as its stdin:
/// a file it opens twice).
const INPUT_FD: i32 = 3;
/// The last bytes of a tool's stderr kept to explain a failure.
const STDERR_KEPT: usize = 4096;

/// A role and its password, as a tool logs in over the unix socket.
#[derive(Clone, Copy)]
pub(crate) struct Login<'a> {
    /// The role.
    pub user: &'a str,
    /// Its password.
    pub password: &'a str,
}

/// A running tool: its process, its group, and its stderr being read.
pub(crate) struct Tool {
    /// bubblewrap, whose child is the tool; its stdout is piped.
    pub child: Child,
    group: Option<LimitGroup>,
    stderr: Option<JoinHandle<String>>,
    step: &'static str,
}

impl Cluster {
    /// Starts `program` (a binary of the cluster's major) with `args`; `input`, when given, is
    /// its stdin.
    pub(crate) async fn spawn_tool(
        &self,
        sandbox: &Sandbox,
        step: &'static str,
        program: &str,
        args: Vec<OsString>,
        login: Login<'_>,
        input: Option<OwnedFd>,
    ) -> Result<Tool, DatabaseError> {
        let bound = self.bound(sandbox, None)?;
        let group = bound
            .limit_group(&format!("{}-{program}", self.id))
            .map_err(|e| DatabaseError::step(step, e))?;
        let mut argv: Vec<OsString> = Vec::new();
        if input.is_some() {
            argv.extend([
                "/bin/sh".into(),
                "-c".into(),
                format!("exec \"$0\" \"$@\" < /dev/fd/{INPUT_FD}").into(),
            ]);
        }
        argv.push(self.engine.bin.join(program).into_os_string());
        argv.extend(args);
        let mut spec = self.spec(argv);
        let put = |k: &str, v: String| (k.to_owned(), SecretString::from(v));
        spec.env.extend([
            put("PGHOST", format!("{CONTROL_INSIDE}/{SOCKET_DIR}")),
            put("PGPORT", INNER_PORT.to_string()),
            put("PGUSER", login.user.to_owned()),
            put("PGPASSWORD", login.password.to_owned()),
        ]);
        let mut command = bound
            .command(&spec, group.as_ref())
            .map_err(|e| DatabaseError::step(step, e))?;
        if let Some(fd) = input {
            command
                .command
                .fd_mappings(vec![FdMapping {
                    parent_fd: fd,
                    child_fd: INPUT_FD,
                }])
                .map_err(|e| DatabaseError::step(step, e))?;
        }
        let mut child = command.spawn().await.map_err(|e| DatabaseError::step(step, e))?;
        let stderr = child.stderr.take().map(|err| tokio::spawn(tail(err)));
        Ok(Tool {
            child,
            group,
            stderr,
            step,
        })
    }
}

/// The last `STDERR_KEPT` bytes of a stream, read to its end (so the tool never blocks on it).
async fn tail(mut err: ChildStderr) -> String {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = err.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > STDERR_KEPT * 2 {
            kept.drain(..kept.len() - STDERR_KEPT);
        }
    }
    let start = kept.len().saturating_sub(STDERR_KEPT);
    String::from_utf8_lossy(&kept[start..]).trim().to_owned()
}

impl Tool {
    /// Waits (at most `within`) for the tool to end; its last lines of stderr are the error.
    pub(crate) async fn finish(mut self, within: Duration) -> Result<(), DatabaseError> {
        let waited = tokio::time::timeout(within, self.child.wait()).await;
        // Everything of the tool ends before its stderr is read to its end: a tool that ran
        // out of time (or left a child) still holds the pipe open.
        if let Some(group) = &self.group {
            group.kill_everyone().await;
            group.remove();
        }
        let said = match self.stderr.take() {
            Some(task) => tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            None => String::new(),
        };
        let status = waited
            .map_err(|_| DatabaseError::step(self.step, format!("it did not finish within {} s", within.as_secs())))?
            .map_err(|e| DatabaseError::step(self.step, e))?;
        if status.success() {
            return Ok(());
        }
        let last: Vec<&str> = said.lines().rev().take(3).collect();
        let said = last.into_iter().rev().collect::<Vec<_>>().join(" / ");
        Err(DatabaseError::step(
            self.step,
            if said.is_empty() {
                format!("it exited ({status})")
            } else {
                said
            },
        ))
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        if let Some(group) = &self.group {
            group.kill_at_once();
            group.remove();
        }
    }
}
