//! Keeping one database's server up: restarted after a crash with backoff, given up on after
//! five crashes in two minutes, stopped with a fast shutdown when asked.

use crate::cluster::{Cluster, Started};
use shipyard_sandbox::Sandbox;
use std::collections::VecDeque;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::watch;

/// Crashes within `CRASH_WINDOW` after which the server is not restarted.
const CRASH_LIMIT: usize = 5;
const CRASH_WINDOW: Duration = Duration::from_secs(120);
/// How long a fast shutdown may take before every process of the cluster is killed.
const STOP_GRACE: Duration = Duration::from_secs(15);
/// Lines of the server's own output kept to explain an exit.
const KEPT_LINES: usize = 20;
/// Bytes of one such line kept.
const LINE_BYTES: usize = 500;

/// How one run of the server ended.
pub(crate) enum Ended {
    /// Asked to stop, and stopped.
    Stopped,
    /// It ended on its own: why, in words.
    Crashed(String),
}

/// Names each run's sandbox (limit group, network namespace) apart from every other.
pub(crate) fn run_name(cluster: &Cluster) -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", cluster.id, RUNS.fetch_add(1, Ordering::Relaxed))
}

/// Runs a started server until it exits or `stop` turns true (then a fast shutdown). A
/// session the kernel killed for memory (the postmaster lives on and restarts its sessions) is
/// told to `crashed` as it happens, never as the server's last crash.
async fn run<F, Fut>(
    cluster: &Cluster,
    mut started: Started,
    stop: &mut watch::Receiver<bool>,
    crashed: &mut F,
) -> Ended
where
    F: FnMut(String, bool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stderr = started.child.stderr.take();
    let stdout = started.child.stdout.take();
    let mut kept: VecDeque<String> = VecDeque::new();
    let mut lines = stderr.map(BufReader::new);
    let mut out = stdout.map(BufReader::new);
    let mut kills = 0;
    let status = loop {
        let line = tokio::select! {
            line = next(&mut lines) => match line {
                Some(line) => line,
                None => { lines = None; continue }
            },
            line = next(&mut out) => match line {
                Some(line) => line,
                None => { out = None; continue }
            },
            status = started.child.wait() => break status.ok(),
            changed = stop.changed() => {
                // A sender gone is a stop too: nobody is left to ask for one.
                if changed.is_err() || *stop.borrow() {
                    fast_shutdown(&mut started).await;
                    release(&started).await;
                    return Ended::Stopped;
                }
                continue
            }
        };
        if line.contains("was terminated by signal 9") {
            let now = started
                .group
                .as_ref()
                .map_or(0, shipyard_sandbox::LimitGroup::memory_kills);
            if now > kills {
                kills = now;
                crashed(
                    format!("a session was killed: out of memory at {} MiB", cluster.memory_mb),
                    false,
                )
                .await;
            }
        }
        keep(&mut kept, line);
    };
    let out_of_memory = started
        .group
        .as_ref()
        .is_some_and(shipyard_sandbox::LimitGroup::hit_memory_limit)
        && status.is_some_and(|s| std::os::unix::process::ExitStatusExt::signal(&s) == Some(9));
    release(&started).await;
    let reason = if out_of_memory {
        format!("killed: out of memory at {} MiB", cluster.memory_mb)
    } else {
        let last = kept.back().map(|l| format!(": {l}")).unwrap_or_default();
        format!(
            "{}{last}",
            status.map_or_else(|| "it could not be waited for".to_owned(), describe)
        )
    };
    Ended::Crashed(reason)
}

/// The next line of the server's output, at most `LINE_BYTES` of it (the rest of a longer one
/// is read and dropped: a tenant's `RAISE WARNING` of any size costs the platform nothing);
/// None at the end. Pending forever once the output ended.
async fn next(reader: &mut Option<BufReader<impl tokio::io::AsyncRead + Unpin>>) -> Option<String> {
    let Some(reader) = reader else {
        return std::future::pending().await;
    };
    let mut line = Vec::new();
    loop {
        let chunk = match reader.fill_buf().await {
            Ok(chunk) if !chunk.is_empty() => chunk,
            _ => return (!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned()),
        };
        let (take, ends) = match chunk.iter().position(|b| *b == b'\n') {
            Some(at) => (at + 1, true),
            None => (chunk.len(), false),
        };
        let room = LINE_BYTES.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..take.min(room)]);
        reader.consume(take);
        if ends {
            return Some(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
    }
}

fn keep(kept: &mut VecDeque<String>, line: String) {
    if kept.len() == KEPT_LINES {
        kept.pop_front();
    }
    kept.push_back(line);
}

/// SIGINT to the postmaster (PostgreSQL's fast shutdown: open transactions roll back, the
/// data is checkpointed); past the grace period every process of the cluster is killed.
async fn fast_shutdown(started: &mut Started) {
    if let Some(pid) = started.group.as_ref().and_then(postmaster) {
        let _ = tokio::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(STOP_GRACE, started.child.wait()).await.is_err() {
        tracing::warn!("a database server did not stop within its grace period; killing it");
        let _ = started.child.start_kill();
        let _ = started.child.wait().await;
    }
}

/// The postmaster among the group's processes: the `postgres` whose parent is not one.
fn postmaster(group: &shipyard_sandbox::LimitGroup) -> Option<u32> {
    let comm = |pid: u32| std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let parent = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command's closing parenthesis: state, then the parent's pid.
        stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok()
    };
    group
        .members()
        .into_iter()
        .find(|pid| comm(*pid).trim() == "postgres" && parent(*pid).is_none_or(|p| comm(p).trim() != "postgres"))
}

/// Ends whatever is left of a run: its processes, its limit group.
async fn release(started: &Started) {
    if let Some(group) = &started.group {
        group.kill_everyone().await;
        group.remove();
    }
}

/// An exit in words.
fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => "ended".to_owned(),
    }
}

/// Restarts after crashes, with backoff (1 s doubling to 30 s), until `stop` or the crash
/// limit; `crashed` is told each crash's reason, and whether it was the last.
pub(crate) async fn supervise<F, Fut>(
    cluster: &Cluster,
    sandbox: &Sandbox,
    mut stop: watch::Receiver<bool>,
    first: Started,
    mut crashed: F,
) where
    F: FnMut(String, bool) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut crashes: VecDeque<Instant> = VecDeque::new();
    let mut backoff = Duration::from_secs(1);
    let mut started = Some(first);
    loop {
        let began = Instant::now();
        let ended = match started.take() {
            Some(s) => run(cluster, s, &mut stop, &mut crashed).await,
            None => match cluster.start(sandbox, &run_name(cluster)).await {
                Ok(s) => run(cluster, s, &mut stop, &mut crashed).await,
                Err(e) => Ended::Crashed(e.to_string()),
            },
        };
        let Ended::Crashed(reason) = ended else { return };
        crashes.push_back(Instant::now());
        while crashes.front().is_some_and(|t| t.elapsed() > CRASH_WINDOW) {
            crashes.pop_front();
        }
        let last = crashes.len() >= CRASH_LIMIT;
        crashed(reason, last).await;
        if last {
            return;
        }
        if began.elapsed() > CRASH_WINDOW {
            backoff = Duration::from_secs(1);
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            changed = stop.changed() => if changed.is_err() || *stop.borrow() { return },
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}
