//! A one-off command in a release's sandbox: the pre-deploy command before a release's
//! instances start. It gets what an instance of the release gets (its secrets and databases,
//! its limits, a fresh HOME, a network of its own) and its output goes, redacted, into a log
//! stream; it is bounded in time, and whatever it leaves running ends with it.

use super::output::pump;
use super::place::Placed;
use super::{Driver, InstanceSpec};
use shipyard_store::logs::LogKind;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How a one-off command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandEnd {
    /// It exited with this code.
    Exited(i32),
    /// It did not exit on its own: why, in words.
    Killed(String),
}

impl Driver {
    /// Runs `command` once in a sandbox of `spec`'s release, for at most `within` and until
    /// `stop` turns true, its output into `stream`; how it ended.
    pub async fn run_command(
        &self,
        spec: &InstanceSpec,
        command: &str,
        (within, mut stop): (Duration, watch::Receiver<bool>),
        stream: &str,
    ) -> std::io::Result<CommandEnd> {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let name = format!("{}-once-{}", spec.release, RUNS.fetch_add(1, Ordering::Relaxed));
        let Placed {
            command: sandboxed,
            group,
            network,
            doors,
            home_disk,
            ..
        } = self.place(spec, &name, spec.port, &[], command).await?;
        let mut child = sandboxed.spawn().await?;
        let (out, err) = (child.stdout.take(), child.stderr.take());
        let pump_out = async {
            if let Some(r) = out {
                pump(
                    r,
                    LogKind::Stdout,
                    spec.redactor.clone(),
                    self.logs.clone(),
                    stream.to_owned(),
                    None,
                )
                .await;
            }
        };
        let pump_err = async {
            if let Some(r) = err {
                pump(
                    r,
                    LogKind::Stderr,
                    spec.redactor.clone(),
                    self.logs.clone(),
                    stream.to_owned(),
                    None,
                )
                .await;
            }
        };
        let ended = async {
            let cut = tokio::select! {
                status = tokio::time::timeout(within, child.wait()) => match status {
                    Ok(status) => Ok(status.ok()),
                    Err(_) => Err(format!("it did not finish within {} s", within.as_secs())),
                },
                () = super::output::stopped(&mut stop) => Err("it was stopped".to_owned()),
            };
            let status = match cut {
                Ok(status) => status,
                Err(why) => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    if let Some(group) = &group {
                        group.kill_everyone().await;
                    }
                    return CommandEnd::Killed(why);
                }
            };
            let out_of_memory = group
                .as_ref()
                .is_some_and(shipyard_sandbox::LimitGroup::hit_memory_limit);
            // Whatever it left behind ends with it, and its output pipes close.
            if let Some(group) = &group {
                group.kill_everyone().await;
            }
            match status.map(|s| (s.code(), s.signal())) {
                Some((Some(code), _)) => CommandEnd::Exited(code),
                Some((None, Some(9))) if out_of_memory => {
                    CommandEnd::Killed(format!("out of memory at {} MiB", spec.limits.memory_bytes >> 20))
                }
                Some((None, Some(signal))) => CommandEnd::Killed(format!("killed by signal {signal}")),
                _ => CommandEnd::Killed("it could not be waited for".to_owned()),
            }
        };
        let ((), (), end) = tokio::join!(pump_out, pump_err, ended);
        if let Some(group) = &group {
            group.remove();
        }
        drop(doors);
        let _ = tokio::task::spawn_blocking(move || {
            drop(network);
            home_disk.release();
        })
        .await;
        Ok(end)
    }
}
