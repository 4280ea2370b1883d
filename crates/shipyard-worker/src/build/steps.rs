//! Running a build's steps in the sandbox, with the install fallbacks (offline cache, then
//! online; `npm ci`, then `npm install`), and turning how a step ended into one sentence.

use super::{BuildLog, Failure};
use crate::context::Worker;
use shipyard_build::build::{Limits, OutputLine, Plan, Sandbox, Step, StepContext, StepOutcome, run_step};
use shipyard_store::logs::LogKind;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

pub(super) fn describe(step: &Step, outcome: &StepOutcome, timeout: std::time::Duration, limits: Limits) -> Failure {
    let memory_mb = limits.memory_bytes / (1024 * 1024);
    let what = format!("{} command `{}`", step.name, step.command);
    match outcome {
        StepOutcome::Exited(code) => Failure::new(format!("{what} exited with code {code}")),
        StepOutcome::Signaled(signal) => Failure::new(format!("{what} was killed by signal {signal}")),
        StepOutcome::TimedOut => Failure::new(format!(
            "{what} was stopped: the build ran past its {} s time limit (--build-timeout)",
            timeout.as_secs()
        )),
        StepOutcome::OutOfMemory => Failure::new(format!(
            "{what} ran out of memory (limit {memory_mb} MiB, --build-memory)"
        )),
        StepOutcome::TooManyProcesses => Failure::new(format!(
            "{what} was stopped: it tried to run more than {} processes at once (limit --build-pids; a fork bomb?)",
            limits.pids
        )),
        StepOutcome::SpawnFailed(e) => Failure::new(format!("{what} could not start: {e}")),
        StepOutcome::Canceled => Failure::canceled("canceled by a user"),
    }
}

/// How a build uses its package cache.
pub(super) struct CacheUse {
    /// The lockfile and package manager are unchanged since the cache was filled.
    pub hit: bool,
    /// Where (inside the sandbox) `node_modules` is kept between builds, for node projects.
    pub node_modules: Option<String>,
}

impl Worker {
    #[tracing::instrument(name = "run", skip_all)]
    pub(super) async fn run_steps(
        &self,
        sandbox: &Sandbox,
        plan: &Plan,
        log: &BuildLog,
        ctx: StepContext,
        cache: CacheUse,
        cancel: watch::Receiver<bool>,
    ) -> Result<(), Failure> {
        let cache_hit = cache.hit;
        let deadline = Instant::now() + self.settings.timeout;
        let (tx, mut rx) = mpsc::channel::<OutputLine>(1024);
        let writer = self.logs.writer();
        let stream_name = log.stream.clone();
        let forward = self
            .runtime
            .tasks()
            .spawn_until_stopping("build log forwarder", async move {
                while let Some(line) = rx.recv().await {
                    let kind = if line.stderr { LogKind::Stderr } else { LogKind::Stdout };
                    writer.append(&stream_name, kind, line.text).await;
                }
            });
        let mut steps: Vec<Step> = Vec::new();
        if plan.python_venv {
            steps.push(Step {
                name: "install",
                command: "python3 -m venv /srv/app/.venv".into(),
            });
        }
        steps.extend(plan.steps.iter().cloned());
        // On a cache hit the install must not need the registry at all.
        let mut offline = ctx.clone();
        offline.env.push(("npm_config_offline".into(), "true".into()));
        offline.env.push(("UV_OFFLINE".into(), "1".into()));
        let mut result = Ok(());
        for step in &steps {
            log.say(format!("$ {}", step.command)).await;
            let install = step.name == "install" && !step.command.contains("-m venv");
            let run = |ctx: &StepContext, command: &str| {
                let (ctx, command) = (ctx.clone(), command.to_owned());
                let (redactor, tx, sandbox, mut cancel) =
                    (log.redactor().clone(), tx.clone(), sandbox.clone(), cancel.clone());
                async move { run_step(&sandbox, &ctx, &command, &redactor, &tx, &mut cancel, deadline).await }
            };
            if install
                && cache_hit
                && let Some(dir) = &cache.node_modules
            {
                let restore = super::snapshot::restore_command(dir);
                if run(&ctx, &restore).await.success() {
                    log.say("node_modules restored from the cache; nothing to install")
                        .await;
                    continue;
                }
                log.say("no usable node_modules in the cache; installing offline").await;
            }
            let mut outcome = run(if install && cache_hit { &offline } else { &ctx }, &step.command).await;
            if install && cache_hit && matches!(outcome, StepOutcome::Exited(c) if c != 0) {
                log.say("the offline install from the cache failed; retrying online")
                    .await;
                outcome = run(&ctx, &step.command).await;
            }
            if install && step.command.trim() == "npm ci" && matches!(outcome, StepOutcome::Exited(c) if c != 0) {
                log.say("npm ci failed; falling back to npm install (the lockfile may not match this registry)")
                    .await;
                log.say("$ npm install").await;
                outcome = run(&ctx, "npm install").await;
            }
            if !outcome.success() {
                result = Err(describe(step, &outcome, self.settings.timeout, sandbox.limits()));
                break;
            }
        }
        drop(tx);
        let _ = forward.await;
        result
    }
}
