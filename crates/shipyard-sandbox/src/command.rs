//! A sandboxed process ready to spawn, and how its arguments reach bubblewrap.

use crate::bwrap::SandboxError;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Child;

/// Arguments for bwrap's `--args`: each followed by a NUL.
pub(crate) fn nul_joined(args: Vec<OsString>) -> Result<Vec<u8>, SandboxError> {
    let mut bytes = Vec::new();
    for arg in args {
        if arg.as_bytes().contains(&0) {
            return Err(SandboxError::Nul(arg.to_string_lossy().replace('\0', "\\0")));
        }
        bytes.extend_from_slice(arg.as_bytes());
        bytes.push(0);
    }
    Ok(bytes)
}

impl SandboxedCommand {
    /// Spawns it with piped stdout and stderr (killed when dropped) and hands bwrap its
    /// arguments; the process then sees an empty stdin.
    pub async fn spawn(self) -> std::io::Result<Child> {
        let SandboxedCommand {
            command: mut cmd,
            stdin_args,
        } = self;
        cmd.stdin(if stdin_args.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
        let mut child = cmd.spawn()?;
        if let (Some(args), Some(mut stdin)) = (stdin_args, child.stdin.take()) {
            // bubblewrap reads these to the end before it starts anything.
            stdin.write_all(&args).await?;
        }
        Ok(child)
    }

    /// Spawns it, discards its output, and waits at most `within`; true on success. On
    /// time-out it is killed (bubblewrap's pid namespace takes everything inside with it).
    pub async fn succeeds_within(self, within: std::time::Duration) -> bool {
        let Ok(child) = self.spawn().await else { return false };
        matches!(
            tokio::time::timeout(within, child.wait_with_output()).await,
            Ok(Ok(out)) if out.status.success()
        )
    }
}

/// A sandboxed process ready to spawn (with `spawn`, which hands `stdin_args` to bubblewrap).
pub struct SandboxedCommand {
    /// The host-side command.
    pub command: tokio::process::Command,
    /// NUL-separated bubblewrap arguments for `--args 0`.
    pub stdin_args: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_argument_with_a_nul_is_refused_not_split() {
        let joined = nul_joined(vec!["--setenv".into(), "PATH".into(), "/bin".into()]).expect("plain args");
        assert_eq!(joined, b"--setenv\0PATH\0/bin\0");
        let smuggled = nul_joined(vec!["/t/pnpm-9\0--bind\0/\0/x".into()]);
        assert!(matches!(smuggled, Err(SandboxError::Nul(_))));
    }
}
