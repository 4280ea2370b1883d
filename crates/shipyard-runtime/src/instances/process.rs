//! One process of an instance: its HOME, its network namespace (the edge dials into it; pasta
//! forwards its port in for health checks), its sandboxed command in its limit group, its output pumped to the runtime log, and
//! its end (an exit, or a stop: SIGTERM, then SIGKILL after the grace period, then whatever
//! is left in its cgroup).

use super::output::{pump, set, stopped};
use super::{APP_DIR, Driver, HOME_DIR, InstanceSpec, InstanceState, InstanceStatus, STOP_GRACE};
use shipyard_core::RELEASE_TOOLS_DIR;
use shipyard_core::SecretString;
use shipyard_sandbox::{Bind, Disk, DiskKind, DiskSpec, Forward, Identity, Spec, inherited_host_settings};
use shipyard_store::logs::LogKind;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
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
        let confined = self.sandbox.is_confined();
        let home_disk = self.home_disk(&name, spec, confined).await?;
        let home = home_disk.path().to_owned();
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
        // The edge dials the app inside its namespace for as long as this process runs.
        let _way_in = network
            .as_ref()
            .map(|net| self.inbound.open(host_port, net.path().to_owned(), inner_port));
        // Its attached databases, reachable from inside for as long as this process runs (or
        // until a detach closes them).
        let _doors = match &network {
            Some(net) if !spec.doors.is_empty() => Some(self.doors.open(net.path(), &spec.doors).await?),
            _ => None,
        };
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
        let mut path = vec![chdir.join("node_modules/.bin"), chdir.join(".venv/bin")];
        // The package manager the build used, when the release carries a copy of it.
        let tools = Path::new(&spec.root_directory).join(RELEASE_TOOLS_DIR);
        for tool in shipyard_sandbox::files::subdirectories_served(&spec.artifact, &tools) {
            path.push(chdir.join(RELEASE_TOOLS_DIR).join(tool).join("node_modules/.bin"));
        }
        let mut env: Vec<(String, SecretString)> = Vec::new();
        let mut put = |k: &str, v: String| env.push((k.to_owned(), SecretString::from(v)));
        let path: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
        put("PATH", format!("{}:/usr/local/bin:/usr/bin:/bin", path.join(":")));
        put("HOME", home_in.display().to_string());
        put("PORT", inner_port.to_string());
        put("LANG", "C.UTF-8".into());
        put("NODE_ENV", "production".into());
        // `npm start` would otherwise ask the registry for a newer npm first: a third of a
        // second of every start (measured), and traffic the app never asked for.
        put("npm_config_update_notifier", "false".into());
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

    /// A fresh HOME for one process of an instance, `limits.diskMb` in size, that only the
    /// instance's user may enter; it goes when the process ends (like a Heroku dyno's files).
    async fn home_disk(&self, name: &str, spec: &InstanceSpec, confined: bool) -> std::io::Result<Disk> {
        let at = self.root.join(name).join("home");
        let (disks, workspaces, bytes, owner) = (
            self.disks.clone(),
            self.workspaces.clone(),
            spec.home_bytes,
            confined.then_some((spec.uid, spec.uid)),
        );
        let (tenant, name) = (spec.tenant.to_string(), name.to_owned());
        tokio::task::spawn_blocking(move || {
            // On the workspace's disk: HOMEs count towards its storageGbLimit.
            workspaces.while_mounted(&tenant, |_| {
                disks.attach(&DiskSpec {
                    image: &workspaces.home_image(&tenant, &name),
                    at: &at,
                    bytes,
                    owner,
                    kind: DiskKind::Scratch,
                })
            })
        })
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)
    }
}
