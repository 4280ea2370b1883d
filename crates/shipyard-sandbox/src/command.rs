//! A sandboxed process ready to spawn, and how its arguments reach bubblewrap.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::Stdio;

/// Arguments for bwrap's `--args`: each followed by a NUL.
pub(crate) fn nul_joined(args: Vec<OsString>) -> Vec<u8> {
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
