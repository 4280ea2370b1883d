//! How a build ended short of a release, and how a lost status write is read.

use shipyard_core::DeploymentStatus;
use shipyard_store::{Deployment, StoreError};

/// What the worker records when a build stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The deployment fails with the error.
    Failed,
    /// A user canceled it.
    Canceled,
    /// Another change already ended or took over the deployment; the worker writes nothing.
    Lost,
}

/// How a build ended short of a release.
#[derive(Debug)]
pub(crate) struct Failure {
    pub end: End,
    pub error: String,
}

impl Failure {
    /// A failure with this sentence.
    pub fn new(error: impl Into<String>) -> Self {
        Self {
            end: End::Failed,
            error: error.into(),
        }
    }

    /// A cancel, in the user's words.
    pub fn canceled(error: impl Into<String>) -> Self {
        Self {
            end: End::Canceled,
            error: error.into(),
        }
    }

    /// The reason a guarded write of attempt `attempt` lost to the deployment as it is now.
    pub fn lost(now: &Deployment, attempt: i64) -> Self {
        let running = matches!(now.status, DeploymentStatus::Building | DeploymentStatus::Deploying);
        if running && now.attempt == attempt {
            // Still ours, so the guard that stopped the write is a requested cancel.
            return Self::canceled("canceled by a user");
        }
        let why = if now.attempt != attempt {
            format!("attempt {} of this deployment took over", now.attempt)
        } else {
            format!("the deployment is already {}", now.status.as_str())
        };
        Self {
            end: End::Lost,
            error: format!("this build stops: {why}"),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error during a build");
        match e {
            StoreError::Undecryptable(what) => Failure::new(format!(
                "the build's inputs could not be read: {what} could not be decrypted (was the data directory's master.key replaced?)"
            )),
            _ => Failure::new("the platform's database failed during the build; retry the deployment"),
        }
    }
}
