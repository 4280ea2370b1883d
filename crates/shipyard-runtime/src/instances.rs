//! The local process driver: a server release's instances as supervised processes in the
//! project's sandbox (its uid; a network namespace per instance whose one way in is a port
//! pasta forwards from the host's loopback), each with a HOME of its own, its output line by
//! line (redacted) in the release's runtime-log stream, restarted on a crash with exponential
//! backoff until it crash-loops. The edge gets opaque addresses, never pids.

use shipyard_core::{LineRedactor, Redactor, ReleaseId, SecretString};
use shipyard_sandbox::{Bind, Forward, Identity, Sandbox, Spec, inherited_host_settings};
use shipyard_store::logs::{LogKind, LogWriter};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

/// Where the release's files appear to an instance (as to its build: paths baked in hold).
const APP_DIR: &str = "/srv/app";
/// Where an instance's own HOME appears.
const HOME_DIR: &str = "/home/app";
/// Crashes within `CRASH_WINDOW` after which an instance is left `crashed`.
const CRASH_LIMIT: usize = 5;
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
    /// Masks secret values in its output.
    pub redactor: Redactor,
}

/// How an instance is doing.
#[derive(Debug, Clone)]
pub struct InstanceState {
    /// `inst_<n>` within its release.
    pub id: String,
    /// `starting`, `healthy`, `stopped` or `crashed`.
    pub status: String,
    /// The host port the edge reaches it on.
    pub port: u16,
    /// Its process (the sandbox's outer process), while running.
    pub pid: Option<u32>,
    /// When its current process started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// How often it was restarted.
    pub restarts: u32,
    /// How its last process ended.
    pub last_exit_code: Option<i32>,
    /// Its last output lines.
    pub last_lines: VecDeque<String>,
}

/// A release's running instances; `stop` ends them.
#[derive(Debug)]
pub struct Instances {
    /// The release.
    pub release: ReleaseId,
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
        let mut states = Vec::new();
        let mut tasks = Vec::new();
        for n in 0..spec.count {
            let port = free_port()?;
            let state = Arc::new(Mutex::new(InstanceState {
                id: format!("inst_{}", n + 1),
                status: "starting".into(),
                port,
                pid: None,
                started_at: chrono::Utc::now(),
                restarts: 0,
                last_exit_code: None,
                last_lines: VecDeque::new(),
            }));
            states.push(state.clone());
            let (driver, spec, stopped) = (self.clone(), spec.clone(), stopped.clone());
            tasks.push(tokio::spawn(
                async move { driver.supervise(spec, n, state, stopped).await },
            ));
        }
        Ok(Arc::new(Instances {
            release: spec.release,
            states,
            stop,
            tasks: Mutex::new(tasks),
        }))
    }

    /// Runs one instance until told to stop, restarting it on a crash.
    async fn supervise(
        self,
        spec: InstanceSpec,
        n: u32,
        state: Arc<Mutex<InstanceState>>,
        mut stop: watch::Receiver<bool>,
    ) {
        let stream = format!("runtime:{}", spec.release);
        let mut crashes: VecDeque<Instant> = VecDeque::new();
        let mut backoff = Duration::from_secs(1);
        loop {
            let started = Instant::now();
            let ended = self.run_once(&spec, n, &state, &mut stop, &stream).await;
            if *stop.borrow() {
                set(&state, |s| s.status = "stopped".into());
                return;
            }
            let code = match ended {
                Ok(code) => code,
                Err(e) => {
                    self.logs
                        .append(
                            &stream,
                            LogKind::System,
                            format!("instance {} could not start: {e}", n + 1),
                        )
                        .await;
                    None
                }
            };
            set(&state, |s| {
                s.last_exit_code = code;
                s.pid = None;
            });
            crashes.push_back(Instant::now());
            while crashes.front().is_some_and(|t| t.elapsed() > CRASH_WINDOW) {
                crashes.pop_front();
            }
            if crashes.len() >= CRASH_LIMIT {
                set(&state, |s| s.status = "crashed".into());
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
                    format!(
                        "instance {} exited ({}); restarting in {} s",
                        n + 1,
                        code.map_or("killed by a signal".to_owned(), |c| format!("code {c}")),
                        backoff.as_secs()
                    ),
                )
                .await;
            tokio::select! {
                () = tokio::time::sleep(backoff) => {}
                () = stopped(&mut stop) => {
                    set(&state, |s| s.status = "stopped".into());
                    return;
                }
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
            set(&state, |s| {
                s.restarts += 1;
                s.status = "starting".into();
            });
        }
    }

    /// One process of an instance, from its sandbox to its exit (or to a stop); its exit code.
    async fn run_once(
        &self,
        spec: &InstanceSpec,
        n: u32,
        state: &Arc<Mutex<InstanceState>>,
        stop: &mut watch::Receiver<bool>,
        stream: &str,
    ) -> std::io::Result<Option<i32>> {
        let host_port = state.lock().map_or(0, |s| s.port);
        let name = format!("{}-{}", spec.release, n + 1);
        let home = self.root.join(&name).join("home");
        std::fs::create_dir_all(&home)?;
        let confined = self.sandbox.is_confined();
        if confined {
            // The instance's user alone may enter its HOME (made by the server, never written
            // by tenant code before this).
            use std::os::unix::fs::PermissionsExt;
            std::os::unix::fs::chown(&home, Some(spec.uid), Some(spec.uid))?;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))?;
        }
        // Confined, the app listens on its own port inside its namespace and pasta forwards the
        // host port to it; unconfined, it listens on the host port itself.
        let inner_port = if confined { spec.port } else { host_port };
        let sandbox = self.sandbox.clone();
        let forwards = [Forward {
            host_port,
            port: inner_port,
        }];
        let net_name = name.clone();
        let network = tokio::task::spawn_blocking(move || sandbox.network_forwarding(&net_name, &forwards))
            .await
            .map_err(std::io::Error::other)?
            .map_err(std::io::Error::other)?;
        let (app, home_in) = if confined {
            (PathBuf::from(APP_DIR), PathBuf::from(HOME_DIR))
        } else {
            (spec.artifact.clone(), home.clone())
        };
        let bound = self
            .sandbox
            .for_project(Identity::project(spec.uid), &home_in, network.as_ref())
            .map_err(std::io::Error::other)?;
        let chdir = if spec.root_directory.is_empty() {
            app.clone()
        } else {
            app.join(&spec.root_directory)
        };
        let mut env: Vec<(String, SecretString)> = Vec::new();
        let mut put = |k: &str, v: String| env.push((k.to_owned(), SecretString::from(v)));
        put(
            "PATH",
            format!(
                "{}:{}:/usr/local/bin:/usr/bin:/bin",
                chdir.join("node_modules/.bin").display(),
                chdir.join(".venv/bin").display()
            ),
        );
        put("HOME", home_in.display().to_string());
        put("PORT", inner_port.to_string());
        put("LANG", "C.UTF-8".into());
        put("NODE_ENV", "production".into());
        for (k, v) in inherited_host_settings() {
            put(&k, v);
        }
        env.extend(spec.env.iter().cloned());
        let spec_run = Spec {
            binds: vec![
                Bind {
                    host: spec.artifact.clone(),
                    inside: app.clone(),
                    writable: false,
                },
                Bind {
                    host: home.clone(),
                    inside: home_in.clone(),
                    writable: true,
                },
            ],
            env,
            chdir,
            program: vec!["sh".into(), "-c".into(), format!("exec {}", spec.start_command).into()],
        };
        let group = bound.with_limits(spec.limits).limit_group(&name)?;
        let command = bound
            .command(&spec_run, group.as_ref())
            .map_err(std::io::Error::other)?;
        let mut child = command.spawn().await?;
        set(state, |s| {
            s.pid = child.id();
            s.started_at = chrono::Utc::now();
        });
        self.logs
            .append(
                stream,
                LogKind::System,
                format!("instance {} started: {}", n + 1, spec.start_command),
            )
            .await;
        let pumps = [
            child.stdout.take().map(|r| {
                tokio::spawn(pump(
                    r,
                    LogKind::Stdout,
                    spec.redactor.clone(),
                    self.logs.clone(),
                    stream.to_owned(),
                    state.clone(),
                ))
            }),
            child.stderr.take().map(|r| {
                tokio::spawn(pump(
                    r,
                    LogKind::Stderr,
                    spec.redactor.clone(),
                    self.logs.clone(),
                    stream.to_owned(),
                    state.clone(),
                ))
            }),
        ];
        let status = tokio::select! {
            status = child.wait() => status.ok(),
            () = stopped(stop) => {
                if let Some(pid) = child.id() {
                    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
                }
                match tokio::time::timeout(STOP_GRACE, child.wait()).await {
                    Ok(status) => status.ok(),
                    Err(_) => {
                        let _ = child.start_kill();
                        child.wait().await.ok()
                    }
                }
            }
        };
        if let Some(group) = &group {
            group.kill_at_once();
            for _ in 0..50 {
                let left = group.members();
                if left.is_empty() {
                    break;
                }
                let _ = std::process::Command::new("kill")
                    .arg("-KILL")
                    .args(left.iter().map(u32::to_string))
                    .status();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            group.remove();
        }
        for pump in pumps.into_iter().flatten() {
            let _ = pump.await;
        }
        let _ = tokio::task::spawn_blocking(move || drop(network)).await;
        Ok(status.and_then(|s| s.code()))
    }
}

/// Resolves once a stop was asked for (the borrow of the flag ends inside).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn set(state: &Mutex<InstanceState>, change: impl FnOnce(&mut InstanceState)) {
    if let Ok(mut s) = state.lock() {
        change(&mut s);
    }
}

async fn pump(
    mut reader: impl AsyncRead + Unpin,
    kind: LogKind,
    redactor: Redactor,
    logs: LogWriter,
    stream: String,
    state: Arc<Mutex<InstanceState>>,
) {
    let mut lines = LineRedactor::new(redactor, MAX_LINE_BYTES);
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for text in lines.push(&buf[..n]) {
            remember(&state, &text);
            logs.append(&stream, kind, text).await;
        }
    }
    if let Some(text) = lines.flush() {
        remember(&state, &text);
        logs.append(&stream, kind, text).await;
    }
}

fn remember(state: &Mutex<InstanceState>, line: &str) {
    set(state, |s| {
        if s.last_lines.len() == LAST_LINES {
            s.last_lines.pop_front();
        }
        s.last_lines.push_back(line.to_owned());
    });
}

impl Instances {
    /// Where the edge reaches each instance.
    pub fn upstreams(&self) -> Vec<SocketAddr> {
        self.states
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| SocketAddr::from(([127, 0, 0, 1], s.port))))
            .collect()
    }

    /// A snapshot of every instance.
    pub fn states(&self) -> Vec<InstanceState> {
        self.states
            .iter()
            .filter_map(|s| s.lock().ok().map(|s| s.clone()))
            .collect()
    }

    /// Marks every instance healthy (once the release passed its health check).
    pub fn mark_healthy(&self) {
        for state in &self.states {
            set(state, |s| {
                if s.status == "starting" {
                    s.status = "healthy".into();
                }
            });
        }
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
