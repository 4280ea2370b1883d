//! Deployments, their events, jobs and releases.

use chrono::{DateTime, Utc};
use shipyard_core::{DeploymentId, DeploymentStatus, DeploymentTrigger, EnvironmentId, ProjectId, ReleaseId, TenantId};

/// A deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Its id.
    pub id: DeploymentId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The project.
    pub project_id: ProjectId,
    /// The environment.
    pub environment_id: EnvironmentId,
    /// Per-workspace number (`DEP-0001`).
    pub number: i64,
    /// Where it is.
    pub status: DeploymentStatus,
    /// Branch built.
    pub branch: String,
    /// Commit built (known once fetched, or fixed by a retry).
    pub commit_sha: Option<String>,
    /// That commit's subject line.
    pub commit_message: Option<String>,
    /// The user's note.
    pub note: Option<String>,
    /// What started it.
    pub trigger: DeploymentTrigger,
    /// Start from empty package caches.
    pub clear_cache: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// The release it made.
    pub release_id: Option<ReleaseId>,
    /// The deployment it retries.
    pub retry_of: Option<DeploymentId>,
    /// Which run of its build this is: 1, or 2 after a restart interrupted the first.
    pub attempt: i64,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When a worker started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// What is needed to queue a deployment.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    /// The project.
    pub project_id: ProjectId,
    /// The environment.
    pub environment_id: EnvironmentId,
    /// Branch to build.
    pub branch: String,
    /// Commit to build, when fixed in advance (retries).
    pub commit_sha: Option<String>,
    /// Its subject line.
    pub commit_message: Option<String>,
    /// The user's note.
    pub note: Option<String>,
    /// What started it.
    pub trigger: DeploymentTrigger,
    /// Start from empty caches.
    pub clear_cache: bool,
    /// The deployment it retries.
    pub retry_of: Option<DeploymentId>,
}

/// A change of a deployment's state, with the fields that change with it. The store applies
/// it only when the status may change so (`DeploymentStatus::sources`), and, for a worker's
/// write, only while the deployment is still on the attempt the worker runs.
#[derive(Debug, Clone, Default)]
pub struct DeploymentUpdate {
    /// New status; None changes fields only, and only while the deployment has not ended.
    pub status: Option<DeploymentStatus>,
    /// The attempt the writer runs; a write for an attempt that was superseded loses.
    pub attempt: Option<i64>,
    /// The commit resolved.
    pub commit_sha: Option<String>,
    /// Its subject line.
    pub commit_message: Option<String>,
    /// The failure sentence.
    pub error: Option<String>,
    /// The release made.
    pub release_id: Option<ReleaseId>,
}

/// What a guarded update did.
#[derive(Debug, Clone)]
pub enum Transition {
    /// The update was applied; the deployment as it now is.
    Applied(Deployment),
    /// It lost to another change (a cancel, a sweep, an earlier end); the deployment as it is.
    Lost(Deployment),
}

impl Transition {
    /// Whether the update was applied.
    pub fn applied(&self) -> bool {
        matches!(self, Transition::Applied(_))
    }

    /// The deployment as it now is.
    pub fn deployment(&self) -> &Deployment {
        match self {
            Transition::Applied(d) | Transition::Lost(d) => d,
        }
    }
}

/// A job a restart or an expired lease took from its worker.
#[derive(Debug, Clone)]
pub struct InterruptedJob {
    /// The deployment it built.
    pub deployment_id: DeploymentId,
    /// Queued again (first interruption) rather than failed.
    pub requeued: bool,
}

/// One entry of a deployment's timeline.
#[derive(Debug, Clone)]
pub struct DeploymentEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Kind: a status name or `note`.
    pub kind: String,
    /// What happened.
    pub message: String,
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct DeploymentFilter {
    /// Exact environment.
    pub environment_id: Option<EnvironmentId>,
    /// Exact status.
    pub status: Option<DeploymentStatus>,
}

/// A job a worker holds.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    /// Job row id.
    pub id: i64,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// The deployment it builds.
    pub deployment_id: DeploymentId,
    /// This claim's lease token: only its holder may renew or finish the job.
    pub lease: String,
    /// The deployment's attempt at the claim: every status write of this claim is guarded by it.
    pub attempt: i64,
}

/// A release: an artifact and the configuration it runs with.
#[derive(Debug, Clone)]
pub struct Release {
    /// Its id.
    pub id: ReleaseId,
    /// The project.
    pub project_id: ProjectId,
    /// The environment.
    pub environment_id: EnvironmentId,
    /// The deployment that built it (None for rollbacks).
    pub deployment_id: Option<DeploymentId>,
    /// v1, v2… per environment.
    pub version: i64,
    /// Commit built.
    pub commit_sha: String,
    /// `active` or `inactive`.
    pub active: bool,
    /// The release it rolled back to.
    pub rollback_of: Option<ReleaseId>,
    /// Whether its files are still kept.
    pub artifact_available: bool,
    /// What it was made with.
    pub config: shipyard_core::ReleaseConfig,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last went live.
    pub activated_at: Option<DateTime<Utc>>,
}

/// What is needed to record a release.
#[derive(Debug, Clone)]
pub struct NewRelease {
    /// Its id (chosen first: the artifact directory is named after it).
    pub id: ReleaseId,
    /// The project.
    pub project_id: ProjectId,
    /// The environment.
    pub environment_id: EnvironmentId,
    /// The deployment that built it.
    pub deployment_id: Option<DeploymentId>,
    /// Commit built.
    pub commit_sha: String,
    /// The release it rolls back to.
    pub rollback_of: Option<ReleaseId>,
    /// What it was made with.
    pub config: shipyard_core::ReleaseConfig,
}

/// One environment as the edge routes it.
#[derive(Debug, Clone)]
pub struct LiveRoute {
    /// The environment.
    pub environment_id: EnvironmentId,
    /// Its workspace.
    pub tenant_id: TenantId,
    /// Its project.
    pub project_id: ProjectId,
    /// `<project-slug>-<env-slug>`, the first label of its live host.
    pub host_label: String,
    /// The workspace's slug, the second label.
    pub workspace_slug: String,
    /// Its verified custom domains, served like the live host.
    pub domains: Vec<String>,
    /// Whether the workspace is suspended.
    pub suspended: bool,
    /// The project's status.
    pub status: shipyard_core::ProjectStatus,
    /// The project's type (React sites fall back to `index.html`).
    pub project_type: shipyard_core::ProjectType,
    /// The active release with its config snapshot, when one is live and kept (and its
    /// snapshot reads).
    pub release: Option<(ReleaseId, shipyard_core::ReleaseConfig)>,
}
