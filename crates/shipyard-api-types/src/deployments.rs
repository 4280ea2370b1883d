//! Deployments, releases and rollbacks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::{DeploymentStatus, DeploymentTrigger};
use utoipa::ToSchema;

/// `POST /tenants/<t>/rollback`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollbackRequest {
    /// The release to return to (`rel_…`); its environment is the one rolled back.
    pub release_id: String,
    /// Why, kept with the new release.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A release as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseView {
    /// `rel_…`
    pub id: String,
    /// `v1`, `v2`… per environment.
    pub version: String,
    /// The project.
    pub project_id: String,
    /// The environment.
    pub environment_id: String,
    /// The deployment that built it (null for rollbacks).
    pub deployment_id: Option<String>,
    /// Commit built.
    pub commit_sha: String,
    /// `active` or `inactive`.
    pub status: String,
    /// The release this one rolled back to.
    pub rollback_of: Option<String>,
    /// Secrets and the versions it runs with.
    #[schema(value_type = Vec<Object>)]
    pub secret_versions: serde_json::Value,
    /// The databases it runs with (those of its environment when it was made; for a rollback,
    /// those of its target still attached).
    pub attachments: Vec<ReleaseAttachment>,
    /// For a rollback: the databases its target had that were detached since; it runs without.
    pub dropped_attachments: Vec<ReleaseAttachment>,
    /// What became of the project's pre-deploy command for it: run before it went live, or
    /// not run (a rollback never runs it); null when it had none.
    pub pre_deploy: Option<String>,
    /// False once retention removed its files: it can no longer be rolled back to.
    pub artifact_available: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last went live.
    pub activated_at: Option<DateTime<Utc>>,
}

/// A database a release runs with, and the variable that holds its URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseAttachment {
    /// `db_…`
    pub database_id: String,
    /// The variable.
    pub env_var: String,
}

/// A release as a deployment names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseRef {
    /// `rel_…`
    pub id: String,
    /// `v1`, `v2`… per environment.
    pub version: String,
}

/// One entry of a deployment's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// When.
    pub at: DateTime<Utc>,
    /// A status name, or `note`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened.
    pub message: String,
}

/// A deployment as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentView {
    /// `dep_…`
    pub id: String,
    /// `DEP-0001`, per workspace; accepted wherever the id is.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The project.
    pub project_id: String,
    /// The environment.
    pub environment_id: String,
    /// queued, building, deploying, ready, failed or canceled.
    pub status: DeploymentStatus,
    /// Branch built.
    pub branch: String,
    /// Commit built (once fetched).
    pub commit_sha: Option<String>,
    /// Its subject line.
    pub commit_message: Option<String>,
    /// Your note.
    pub note: Option<String>,
    /// api, retry or webhook.
    pub trigger: DeploymentTrigger,
    /// Why it failed: the step, the command and its exit code or reason.
    pub error: Option<String>,
    /// The release it made.
    pub release_id: Option<String>,
    /// That release.
    pub release: Option<ReleaseRef>,
    /// Which run of its build this is: 1, or 2 once a platform restart interrupted the first.
    #[schema(minimum = 1, maximum = 2)]
    pub attempt: i64,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When building started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Its timeline.
    pub events: Vec<EventView>,
}

/// `POST /tenants/<t>/projects/<p>/environments/<e>/deployments`
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerRequest {
    /// Branch to build (default: the environment's branch).
    pub branch: Option<String>,
    /// A note shown with the deployment.
    pub note: Option<String>,
    /// Start from empty package caches.
    pub clear_cache: Option<bool>,
}
