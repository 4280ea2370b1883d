//! Collecting a child's output with a cap on each pipe. A remote, a repository or a build
//! decides how much a child prints, so nothing it prints may grow the server's memory
//! without bound: past its cap a pipe is still drained (the child never blocks on it) but
//! the bytes are dropped, and the caller learns that they were.

use std::process::ExitStatus;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;

/// What a child printed, each pipe cut at its cap.
#[derive(Debug)]
pub struct BoundedOutput {
    /// How it exited.
    pub status: ExitStatus,
    /// Standard output, at most its cap.
    pub stdout: Vec<u8>,
    /// Whether standard output went past its cap.
    pub stdout_cut: bool,
    /// Standard error, at most its cap.
    pub stderr: Vec<u8>,
}

/// Reads `pipe` to its end, keeping at most `cap` bytes; true when more came.
async fn drain(pipe: Option<impl AsyncRead + Unpin>, cap: usize) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut cut = false;
    let Some(mut pipe) = pipe else {
        return Ok((kept, cut));
    };
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            return Ok((kept, cut));
        }
        let room = cap.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
        cut |= n > room;
    }
}

/// Waits for `child` (spawned with piped stdout and stderr) and collects its output under the
/// caps.
pub async fn bounded_output(mut child: Child, stdout_cap: usize, stderr_cap: usize) -> std::io::Result<BoundedOutput> {
    let out = drain(child.stdout.take(), stdout_cap);
    let err = drain(child.stderr.take(), stderr_cap);
    let ((stdout, stdout_cut), (stderr, _), status) = tokio::try_join!(out, err, child.wait())?;
    Ok(BoundedOutput {
        status,
        stdout,
        stdout_cut,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    #[tokio::test]
    async fn output_past_the_cap_is_drained_and_dropped() {
        let child = tokio::process::Command::new("sh")
            .args([
                "-c",
                "head -c 5000000 /dev/zero; head -c 300000 /dev/zero >&2; echo done >&2",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let out = bounded_output(child, 1000, 64).await.expect("collect");
        assert!(out.status.success(), "the child was never blocked on a full pipe");
        assert_eq!((out.stdout.len(), out.stdout_cut), (1000, true));
        assert_eq!(out.stderr.len(), 64);

        let small = tokio::process::Command::new("echo")
            .arg("hi")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn echo");
        let out = bounded_output(small, 1000, 64).await.expect("collect");
        assert_eq!((out.stdout.as_slice(), out.stdout_cut), (&b"hi\n"[..], false));
    }
}
