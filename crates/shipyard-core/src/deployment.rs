//! Deployment states and triggers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a deployment is: `queued → building → deploying → ready`, or `failed`/`canceled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentStatus {
    /// Waiting for a worker (and for earlier deployments of its environment).
    Queued,
    /// Fetching, installing, building.
    Building,
    /// Storing the artifact and activating the release.
    Deploying,
    /// Done: its release is active (or was, until a newer one).
    Ready,
    /// Stopped by an error; `error` says which step and why.
    Failed,
    /// Stopped by a user.
    Canceled,
}

impl DeploymentStatus {
    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Queued => "queued",
            DeploymentStatus::Building => "building",
            DeploymentStatus::Deploying => "deploying",
            DeploymentStatus::Ready => "ready",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Canceled => "canceled",
        }
    }

    /// Parses a stored or queried status.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Building,
            Self::Deploying,
            Self::Ready,
            Self::Failed,
            Self::Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the deployment has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Ready | Self::Failed | Self::Canceled)
    }

    /// The statuses a deployment may move to `self` from (CONTRACT.md, "Deployment state
    /// machine"). `ready → failed` is not here: only the go-live watch may take it, once.
    pub fn sources(self) -> &'static [Self] {
        match self {
            // Only a build interrupted by a restart goes back to the queue.
            Self::Queued => &[Self::Building, Self::Deploying],
            Self::Building => &[Self::Queued],
            Self::Deploying => &[Self::Building],
            Self::Ready => &[Self::Deploying],
            Self::Failed | Self::Canceled => &[Self::Queued, Self::Building, Self::Deploying],
        }
    }

    /// Whether a deployment in `self` may move to `next`.
    pub fn may_become(self, next: Self) -> bool {
        next.sources().contains(&self)
    }
}

/// What started a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentTrigger {
    /// `POST …/deployments`.
    Api,
    /// `POST …/retry`.
    Retry,
    /// A push webhook.
    Webhook,
}

impl DeploymentTrigger {
    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentTrigger::Api => "api",
            DeploymentTrigger::Retry => "retry",
            DeploymentTrigger::Webhook => "webhook",
        }
    }
}

/// `DEP-0042` for deployment number 42.
pub fn deployment_ref(number: i64) -> String {
    format!("DEP-{number:04}")
}

/// The number in a `DEP-…` ref (case-insensitive), if it is one.
pub fn parse_deployment_ref(text: &str) -> Option<i64> {
    let digits = text
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("DEP-"))
        .map(|_| &text[4..])?;
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
        .filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_round_trip() {
        assert_eq!(deployment_ref(42), "DEP-0042");
        assert_eq!(deployment_ref(12345), "DEP-12345");
        assert_eq!(parse_deployment_ref("DEP-0042"), Some(42));
        assert_eq!(parse_deployment_ref("dep-7"), Some(7));
        for bad in ["DEP-", "DEP-x1", "DEP-0", "dep_1", "D", "DEP-1234567890123"] {
            assert_eq!(parse_deployment_ref(bad), None, "{bad}");
        }
        assert!(DeploymentStatus::Ready.is_terminal() && !DeploymentStatus::Deploying.is_terminal());
        assert_eq!(DeploymentStatus::parse("canceled"), Some(DeploymentStatus::Canceled));
    }

    #[test]
    fn ended_deployments_never_change() {
        use DeploymentStatus::*;
        let all = [Queued, Building, Deploying, Ready, Failed, Canceled];
        for from in [Ready, Failed, Canceled] {
            assert!(
                all.iter().all(|to| !from.may_become(*to)),
                "{from:?} must stay as it is"
            );
        }
        assert!(Queued.may_become(Canceled) && Deploying.may_become(Canceled));
        assert!(Building.may_become(Queued) && !Queued.may_become(Ready));
    }
}
