//! One-off commands (`shipyard run`, Heroku's `run`): a command run once in a sandbox of an
//! environment's active release (see `Driver::run_command`), its output in a log stream of its
//! own, its end remembered for a while. A workspace runs at most `RUNS_AT_ONCE` at a time, each
//! for at most `RUN_WITHIN`; the server remembers the last `KEPT` that ended.

use crate::{CommandEnd, InstanceSpec, Runtime};
use chrono::{DateTime, Utc};
use shipyard_core::{EnvironmentId, RunId, TenantId};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One-off commands a workspace may run at once.
pub const RUNS_AT_ONCE: usize = 2;
/// How long one may run.
pub const RUN_WITHIN: Duration = Duration::from_secs(60 * 60);
/// Ended runs the server remembers (oldest forgotten first).
const KEPT: usize = 200;

/// A one-off command: what ran where, and how it ended.
#[derive(Debug, Clone)]
pub struct Run {
    /// `run_…`
    pub id: RunId,
    /// Its workspace.
    pub tenant: TenantId,
    /// Its environment.
    pub environment: EnvironmentId,
    /// The release whose sandbox it ran in.
    pub release: String,
    /// The command.
    pub command: String,
    /// None while it runs.
    pub end: Option<CommandEnd>,
    /// Why it could not run, when it could not.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl Run {
    /// Whether it still runs.
    pub fn running(&self) -> bool {
        self.end.is_none() && self.error.is_none()
    }
}

/// The runs the server knows.
#[derive(Debug, Clone, Default)]
pub struct Runs {
    all: Arc<Mutex<VecDeque<Run>>>,
}

impl Runs {
    fn change(&self, id: &RunId, change: impl FnOnce(&mut Run)) {
        if let Ok(mut all) = self.all.lock()
            && let Some(run) = all.iter_mut().find(|r| r.id == *id)
        {
            change(run);
            run.finished_at = Some(Utc::now());
        }
    }
}

impl Runtime {
    /// Starts `command` in a sandbox of `spec`'s release; a sentence when the workspace runs
    /// as many as it may already.
    pub fn start_run(&self, spec: InstanceSpec, command: String) -> Result<Run, String> {
        let run = Run {
            id: RunId::generate(),
            tenant: spec.tenant.clone(),
            environment: spec.environment.clone(),
            release: spec.release.to_string(),
            command,
            end: None,
            error: None,
            started_at: Utc::now(),
            finished_at: None,
        };
        {
            let mut all = self
                .runs
                .all
                .lock()
                .map_err(|_| "the runs' registry is broken".to_owned())?;
            let running = all.iter().filter(|r| r.tenant == run.tenant && r.running()).count();
            if running >= RUNS_AT_ONCE {
                return Err(format!(
                    "this workspace runs {running} one-off commands already, its most at once; wait for one to end"
                ));
            }
            while all.len() >= KEPT + RUNS_AT_ONCE {
                let Some(at) = all.iter().position(|r| !r.running()) else {
                    break;
                };
                all.remove(at);
            }
            all.push_back(run.clone());
        }
        let (this, id, command) = (self.clone(), run.id.clone(), run.command.clone());
        let stream = shipyard_store::logs::run_stream(&run.id);
        if let Some(driver) = &self.driver {
            driver.logs.claim(&stream, run.tenant.as_str());
        }
        // Awaited at shutdown: the server's stop ends the command (its group killed) first.
        self.tasks.spawn("one-off run", async move {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let run = this.run_command(&spec, &command, (RUN_WITHIN, stopped), &stream);
            tokio::pin!(run);
            let ended = tokio::select! {
                ended = &mut run => ended,
                () = this.tasks.stopping() => {
                    let _ = stop.send(true);
                    run.await
                }
            };
            if let Some(driver) = &this.driver {
                driver.logs.flush().await;
            }
            this.runs.change(&id, |run| match ended {
                Ok(end) => run.end = Some(end),
                Err(e) => run.error = Some(format!("it could not start: {e}")),
            });
        });
        Ok(run)
    }

    /// Run `id` of `tenant`'s workspace, while the server remembers it.
    pub fn run_of(&self, tenant: &TenantId, id: &RunId) -> Option<Run> {
        let all = self.runs.all.lock().ok()?;
        all.iter().find(|r| r.id == *id && r.tenant == *tenant).cloned()
    }
}
