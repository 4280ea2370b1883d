//! The local process driver: a server release's instances as supervised processes in the
//! project's sandbox (its uid; a network namespace per instance whose one way in is a port
//! pasta forwards from the host's loopback), each with a HOME of its own, its output line by
//! line (redacted) in the release's runtime-log stream, restarted on a crash with exponential
//! backoff until it crash-loops. The edge gets opaque addresses, never pids.

mod once;
mod output;
pub use once::CommandEnd;
mod place;
mod process;
mod status;

pub use status::InstanceStatus;

use output::{set, stopped};
use shipyard_core::{EnvironmentId, Redactor, ReleaseId, SecretString, TenantId};
use shipyard_edge::Upstream;
use shipyard_sandbox::Sandbox;
use shipyard_store::logs::{LogKind, LogWriter};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where the release's files appear to an instance (as to its build: paths baked in hold).
const APP_DIR: &str = "/srv/app";
/// Where an instance's own HOME appears.
const HOME_DIR: &str = "/home/app";
/// Crashes within `CRASH_WINDOW` after which an instance is left `crashed` (a crash loop).
pub const CRASH_LIMIT: usize = 5;
const CRASH_WINDOW: Duration = Duration::from_secs(120);
/// How long a stopped instance has between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Longest runtime-log line; longer output is split.
const MAX_LINE_BYTES: usize = 16 * 1024;
/// Output lines kept per instance for a failure's explanation.
const LAST_LINES: usize = 20;

/// What runs for a release.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    /// The release.
    pub release: ReleaseId,
    /// Its workspace, whose memory budget it counts against.
    pub tenant: TenantId,
    /// Its environment: one activation at a time there, and what drains there is cut short.
    pub environment: EnvironmentId,
    /// Checked under the lock that starts instances (None: admitted before, as at start).
    pub budget: Option<crate::memory_budget::Budget>,
    /// Its files on the host (mounted read-only: releases are immutable).
    pub artifact: PathBuf,
    /// The app's directory inside them (`rootDirectory`).
    pub root_directory: String,
    /// The command that starts the server.
    pub start_command: String,
    /// The port it listens on inside its sandbox (`PORT`).
    pub port: u16,
    /// How many run.
    pub count: u32,
    /// Its environment: the release's pinned secrets.
    pub env: Vec<(String, SecretString)>,
    /// The project's sandbox uid.
    pub uid: u32,
    /// Memory and CPU of each instance (`limits.memoryMb`, `limits.cpuMillis`).
    pub limits: shipyard_sandbox::Limits,
    /// Bytes of each instance's HOME (`limits.diskMb`).
    pub home_bytes: u64,
    /// Masks secret values in its output.
    pub redactor: Redactor,
    /// The databases its sandbox may reach (attached to its environment).
    pub doors: Vec<shipyard_sandbox::network::Grant>,
    /// What must answer 2xx/3xx (`healthCheckPath`; empty: a TCP accept).
    pub health_path: String,
    /// How long a new release has for its first answer (`healthCheckTimeoutSeconds`).
    pub health_within: Duration,
    /// How long it keeps serving in-flight requests once replaced (`drainSeconds`).
    pub drain: Duration,
}

/// How an instance is doing.
#[derive(Debug, Clone)]
pub struct InstanceState {
    /// `inst_<n>` within its release.
    pub id: String,
    /// `n`: which of its release's instances it is, from 1.
    pub number: u32,
    /// Where it is in its life.
    pub status: InstanceStatus,
    /// Whether the edge sends it requests (healthy and running).
    pub serving: Arc<AtomicBool>,
    /// What its last failed health check saw.
    pub last_probe: String,
    /// The host port the edge reaches it on.
    pub port: u16,
    /// The port it listens on itself (its `PORT`; inside its namespace when confined).
    pub own_port: u16,
    /// Its process id as it sees it, while running: only an unconfined instance has one that
    /// means anything to its tenant (a confined one has a pid namespace of its own), so a
    /// host pid is never shown.
    pub pid: Option<u32>,
    /// When its current process started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// How often it was restarted.
    pub restarts: u32,
    /// How its last process ended.
    pub last_exit_code: Option<i32>,
    /// The same in words ("exited with code 3", "was killed by signal 9 (SIGKILL)", "killed:
    /// out of memory at 256 MiB").
    pub last_exit_reason: Option<String>,
    /// Its last output lines.
    pub last_lines: VecDeque<String>,
}

/// A release's running instances; `stop` ends them.
#[derive(Debug)]
pub struct Instances {
    /// The release.
    pub release: ReleaseId,
    /// Its workspace.
    pub tenant: TenantId,
    /// Its environment.
    pub environment: EnvironmentId,
    /// What it holds against its workspace's budget.
    pub want: crate::memory_budget::Want,
    /// How long it drains once replaced.
    pub drain: Duration,
    // Set once it is replaced (or its environment stops serving): from then on it drains.
    retired: AtomicBool,
    states: Vec<Arc<Mutex<InstanceState>>>,
    stop: watch::Sender<bool>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// What the driver needs from the server.
#[derive(Clone)]
pub struct Driver {
    /// Confines instances.
    pub sandbox: Sandbox,
    /// Runtime logs.
    pub logs: LogWriter,
    /// Where instances' homes live (`<work>/instances`).
    pub root: PathBuf,
    /// The uids projects' sandboxes get (`--sandbox-uids`).
    pub uids: std::ops::RangeInclusive<u32>,
    /// The edge's ways into instances' namespaces.
    pub inbound: shipyard_edge::Inbound,
    /// Instances' HOMEs, each a disk of its own.
    pub disks: shipyard_sandbox::Disks,
    /// Workspaces' disks, which hold the HOMEs' images.
    pub workspaces: shipyard_sandbox::Workspaces,
    /// The ways from sandboxes to their attached databases.
    pub doors: shipyard_sandbox::network::Doors,
}

/// A free port on the host's loopback (the kernel's choice; taken again by pasta at once).
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

impl Driver {
    /// Starts `spec.count` instances of a release; they keep running (and restarting) until
    /// `Instances::stop`.
    pub fn start(&self, spec: InstanceSpec) -> std::io::Result<Arc<Instances>> {
        let (stop, stopped) = watch::channel(false);
        // A rollback's release is recorded only once its instances answer: its log is said to
        // be the workspace's now, so its lines count against the workspace's bound from the first.
        self.logs.claim(
            &shipyard_store::logs::runtime_stream(&spec.release),
            spec.tenant.as_str(),
        );
        let mut states = Vec::new();
        let mut tasks = Vec::new();
        for n in 0..spec.count {
            let port = free_port()?;
            let state = Arc::new(Mutex::new(InstanceState {
                id: format!("inst_{}", n + 1),
                number: n + 1,
                status: InstanceStatus::Starting,
                serving: Arc::new(AtomicBool::new(false)),
                last_probe: "no instance answered yet".into(),
                port,
                own_port: if self.sandbox.is_confined() { spec.port } else { port },
                pid: None,
                started_at: chrono::Utc::now(),
                restarts: 0,
                last_exit_code: None,
                last_exit_reason: None,
                last_lines: VecDeque::new(),
            }));
            states.push(state.clone());
            let (driver, spec, stopped) = (self.clone(), spec.clone(), stopped.clone());
            tasks.push(tokio::spawn(
                async move { driver.supervise(spec, n, state, stopped).await },
            ));
        }
        Ok(Arc::new(Instances {
            want: crate::memory_budget::Want {
                instances: spec.count,
                memory_mb: u32::try_from(spec.limits.memory_bytes >> 20).unwrap_or(u32::MAX),
            },
            release: spec.release,
            tenant: spec.tenant,
            environment: spec.environment,
            retired: AtomicBool::new(false),
            drain: spec.drain,
            states,
            stop,
            tasks: Mutex::new(tasks),
        }))
    }

    /// Runs one instance until told to stop, restarting it on a crash.
    #[tracing::instrument(name = "instance", skip_all, fields(release = %spec.release, instance = n))]
    async fn supervise(
        self,
        spec: InstanceSpec,
        n: u32,
        state: Arc<Mutex<InstanceState>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let stream = shipyard_store::logs::runtime_stream(&spec.release);
        let mut crashes: VecDeque<Instant> = VecDeque::new();
        let mut backoff = Duration::from_secs(1);
        loop {
            let started = Instant::now();
            let ended = self.run_once(&spec, n, &state, &mut stop, &stream).await;
            // A draining instance that exits is done: its release no longer serves.
            let draining = state.lock().is_ok_and(|s| s.status == InstanceStatus::Draining);
            if *stop.borrow() || draining {
                set(&state, |s| s.status = InstanceStatus::Stopped);
                return;
            }
            let (exit, out_of_memory) = match ended {
                Ok(ended) => (ended.status, ended.out_of_memory),
                Err(e) => {
                    self.logs
                        .append(
                            &stream,
                            LogKind::System,
                            format!("instance {} could not start: {e}", n + 1),
                        )
                        .await;
                    (None, false)
                }
            };
            let reason = if out_of_memory {
                format!(
                    "killed: out of memory at {} MiB",
                    spec.limits.memory_bytes / (1024 * 1024)
                )
            } else {
                exit.map_or_else(|| "it could not start".to_owned(), describe)
            };
            set(&state, |s| {
                s.last_exit_code = exit.and_then(|e| e.code());
                s.last_exit_reason = Some(reason.clone());
                s.pid = None;
            });
            crashes.push_back(Instant::now());
            while crashes.front().is_some_and(|t| t.elapsed() > CRASH_WINDOW) {
                crashes.pop_front();
            }
            if crashes.len() >= CRASH_LIMIT {
                set(&state, |s| s.status = InstanceStatus::Crashed);
                self.logs
                    .append(
                        &stream,
                        LogKind::System,
                        format!(
                            "instance {} crashed {CRASH_LIMIT} times within 2 minutes; not restarted",
                            n + 1
                        ),
                    )
                    .await;
                return;
            }
            if started.elapsed() > CRASH_WINDOW {
                backoff = Duration::from_secs(1);
            }
            self.logs
                .append(
                    &stream,
                    LogKind::System,
                    format!("instance {} {reason}; restarting in {} s", n + 1, backoff.as_secs()),
                )
                .await;
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stopped(&mut stop) => {
                    set(&state, |s| s.status = InstanceStatus::Stopped);
                    return;
                }
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
            set(&state, |s| {
                s.restarts += 1;
                s.status = InstanceStatus::Starting;
            });
        }
    }
}

impl Instances {
    /// Where the edge reaches each instance, and whether it takes requests now.
    pub fn upstreams(&self) -> Vec<Upstream> {
        self.states
            .iter()
            .filter_map(|s| {
                s.lock()
                    .ok()
                    .map(|s| Upstream::new(SocketAddr::from(([127, 0, 0, 1], s.port)), s.serving.clone()))
            })
            .collect()
    }

    /// A snapshot of every instance.
    pub fn states(&self) -> Vec<InstanceState> {
        self.states
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.clone()))
            .collect()
    }

    /// Marks every instance `draining`: the set no longer serves, and is one a new activation
    /// of its environment may cut short.
    pub fn begin_retiring(&self) {
        self.retired.store(true, Ordering::SeqCst);
        for state in &self.states {
            set(state, |s| {
                if s.status.is_live() {
                    s.status = InstanceStatus::Draining;
                }
            });
        }
    }

    /// Whether it was replaced and drains (or has stopped).
    pub fn retired(&self) -> bool {
        self.retired.load(Ordering::SeqCst)
    }

    /// Marks every instance `draining`, waits (with `drain`) for the release's drain time,
    /// then stops them.
    pub async fn retire(&self, drain: bool) {
        self.begin_retiring();
        if drain {
            tokio::time::sleep(self.drain).await;
        }
        self.stop().await;
    }

    /// Stops every instance (SIGTERM, then SIGKILL after a grace period) and waits for them.
    pub async fn stop(&self) {
        let _ = self.stop.send(true);
        let tasks: Vec<_> = self.tasks.lock().map(|mut t| t.drain(..).collect()).unwrap_or_default();
        for task in tasks {
            let _ = task.await;
        }
    }
}

/// How a process ended, in words.
fn describe(exit: ExitStatus) -> String {
    match (exit.code(), exit.signal()) {
        // The sandbox reports a signal that ended the app as 128 + its number, as shells do.
        (Some(code), _) if (129..=159).contains(&code) => {
            format!("was killed by signal {} (exit code {code})", code - 128)
        }
        (Some(code), _) => format!("exited with code {code}"),
        (None, Some(9)) => "was killed by signal 9 (SIGKILL)".to_owned(),
        (None, Some(15)) => "was stopped by signal 15 (SIGTERM)".to_owned(),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => "ended".to_owned(),
    }
}
