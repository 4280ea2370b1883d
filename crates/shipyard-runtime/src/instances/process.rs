//! One process of an instance: its HOME, its network namespace (the edge dials into it; pasta
//! forwards its port in for health checks), its sandboxed command in its limit group, its output pumped to the runtime log, and
//! its end (an exit, or a stop: SIGTERM, then SIGKILL after the grace period, then whatever
//! is left in its cgroup).

use super::output::{pump, set, stopped};
use super::place::Placed;
use super::{Driver, InstanceSpec, InstanceState, InstanceStatus, STOP_GRACE};
use shipyard_sandbox::Forward;
use shipyard_store::logs::LogKind;
use std::os::unix::process::ExitStatusExt;

use std::process::ExitStatus;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// How one process of an instance ended.
pub(super) struct Ended {
    /// Its exit status (None when it could not be waited for).
    pub(super) status: Option<ExitStatus>,
    /// Whether the kernel killed it at its memory limit.
    pub(super) out_of_memory: bool,
}

impl Driver {
    /// One process of an instance, from its sandbox to its exit (or to a stop); its exit code.
    pub(super) async fn run_once(
        &self,
        spec: &InstanceSpec,
        n: u32,
        state: &Arc<Mutex<InstanceState>>,
        stop: &mut watch::Receiver<bool>,
        stream: &str,
    ) -> std::io::Result<Ended> {
        // Confined, the app listens on its own port inside its namespace and pasta forwards the
        // host port to it; unconfined, it listens on the host port itself (`own_port` says which).
        let (host_port, inner_port) = state.lock().map_or((0, spec.port), |s| (s.port, s.own_port));
        // Its namespace, cgroup and HOME are this process's alone: a set of the same release
        // that is still stopping (a quick pause and resume) has its own.
        static STARTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!("{}-{}-{}", spec.release, n + 1, STARTS.fetch_add(1, Ordering::Relaxed));
        let forwards = [Forward {
            host_port,
            port: inner_port,
        }];
        let program = format!("exec {}", spec.start_command);
        let Placed {
            command,
            group,
            network,
            doors: _doors,
            home_disk,
            confined,
        } = self.place(spec, &name, inner_port, &forwards, &program).await?;
        // The edge dials the app inside its namespace for as long as this process runs.
        let _way_in = network
            .as_ref()
            .map(|net| self.inbound.open(host_port, net.path().to_owned(), inner_port));
        let mut child = command.spawn().await?;
        set(state, |s| {
            s.pid = if confined { None } else { child.id() };
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
                    Some(state.clone()),
                ))
            }),
            child.stderr.take().map(|r| {
                tokio::spawn(pump(
                    r,
                    LogKind::Stderr,
                    spec.redactor.clone(),
                    self.logs.clone(),
                    stream.to_owned(),
                    Some(state.clone()),
                ))
            }),
        ];
        // Checked from its start until it ends: the edge sends it requests once it answers.
        let watch = tokio::spawn(crate::health::watch(
            std::net::SocketAddr::from(([127, 0, 0, 1], host_port)),
            spec.health_path.clone(),
            state.clone(),
        ));
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
        watch.abort();
        // Awaited: a check that was under way must not mark the ended process as serving.
        let _ = watch.await;
        set(state, |s| {
            s.serving.store(false, Ordering::Relaxed);
            if matches!(s.status, InstanceStatus::Healthy | InstanceStatus::Unhealthy) {
                s.status = InstanceStatus::Starting;
            }
        });
        // Read before the group goes: a SIGKILL the kernel sent at the memory limit.
        let killed_by_signal_9 = status.is_some_and(|s| s.signal() == Some(9) || s.code() == Some(137));
        let out_of_memory = killed_by_signal_9 && group.as_ref().is_some_and(|g| g.hit_memory_limit());
        if let Some(group) = &group {
            group.kill_everyone().await;
            group.remove();
        }
        for pump in pumps.into_iter().flatten() {
            let _ = pump.await;
        }
        let _ = tokio::task::spawn_blocking(move || {
            drop(network);
            home_disk.release();
        })
        .await;
        Ok(Ended { status, out_of_memory })
    }
}
