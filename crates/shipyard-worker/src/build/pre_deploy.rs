//! The pre-deploy command (`runtime-config.preDeployCommand`, e.g. migrations): once per
//! deploy, in the new release's sandbox with its secrets and databases, after the build and
//! before any instance of it starts. A failure fails the deployment with the command and its
//! exit code, and the release it would have replaced keeps serving. A rollback never runs it.

use super::{Failure, Inputs};
use crate::build::log::BuildLog;
use crate::context::Worker;
use shipyard_runtime::{CommandEnd, InstanceSpec};
use shipyard_store::{Backend, Jobs, Release, SqliteStore};
use std::time::Duration;
use tokio::sync::watch;

/// How long a pre-deploy command may run.
const PRE_DEPLOY_WITHIN: Duration = Duration::from_secs(15 * 60);

impl Worker {
    /// What runs for `release` of this build, its instances or a command (no budget yet).
    pub(super) async fn release_spec(&self, inputs: &Inputs, release: &Release) -> Result<InstanceSpec, Failure> {
        let uid = {
            let mut tx = self.store.write().await?;
            let uid = tx
                .sandbox_uid(&inputs.project.id, self.settings.sandbox_uids.clone())
                .await?;
            SqliteStore::commit(tx).await?;
            uid
        };
        let mut spec = self
            .runtime
            .instance_spec(
                (&release.id, &inputs.scope, &inputs.deployment.environment_id),
                (&inputs.project.build, &inputs.project.runtime),
                inputs.environment(),
                uid,
                inputs.redactor.clone(),
            )
            .map_err(Failure::new)?;
        spec.doors =
            shipyard_runtime::doors::grants(&inputs.project.id, &inputs.deployment.environment_id, &inputs.attached);
        Ok(spec)
    }

    /// Runs the project's pre-deploy command, if it has one, as a step of the build log.
    /// `cancel` turns true when the deployment is canceled or its job taken back: the
    /// command is killed.
    pub(super) async fn pre_deploy(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        release: &Release,
        cancel: watch::Receiver<bool>,
    ) -> Result<(), Failure> {
        let Some(command) = inputs
            .project
            .runtime
            .pre_deploy_command
            .as_deref()
            .filter(|c| !c.trim().is_empty())
        else {
            return Ok(());
        };
        let spec = self.release_spec(inputs, release).await?;
        log.say(format!("Pre-deploy: {command}")).await;
        let end = self
            .runtime
            .run_command(&spec, command, (PRE_DEPLOY_WITHIN, cancel.clone()), &log.stream)
            .await
            .map_err(|e| Failure::new(format!("the pre-deploy command could not start: {e}")))?;
        let kept = format!(
            "release v{} was not started and the active release keeps serving",
            release.version
        );
        // Stopped by the cancel (or the job taken back), not by itself.
        if *cancel.borrow() {
            // As a build step's cancel is said (a lease taken back is told apart when the end
            // is recorded).
            return Err(Failure::canceled("canceled by a user"));
        }
        match end {
            CommandEnd::Exited(0) => {
                log.say("Pre-deploy: done").await;
                Ok(())
            }
            CommandEnd::Exited(code) => Err(Failure::new(format!(
                "pre-deploy command `{command}` exited with code {code}; {kept}"
            ))),
            CommandEnd::Killed(why) => Err(Failure::new(format!(
                "pre-deploy command `{command}` was stopped: {why}; {kept}"
            ))),
        }
    }
}
