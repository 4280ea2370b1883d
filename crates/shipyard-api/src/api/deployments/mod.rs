//! Deployments: trigger, list, detail, logs (JSON and live SSE), cancel and retry.

pub mod actions;
pub mod admission;
pub mod logs;
pub mod read;
pub mod trigger;

use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, Utc};
use serde::Serialize;
use shipyard_core::deployment::{deployment_ref, parse_deployment_ref};
use shipyard_core::{DeploymentId, DeploymentStatus, DeploymentTrigger};
use shipyard_store::{Deployment, Deployments, Releases, TenantScope, Tx};
use utoipa::ToSchema;

/// A release as a deployment names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseRef {
    /// `rel_…`
    pub id: String,
    /// `v1`, `v2`… per environment.
    pub version: String,
}

/// One entry of a deployment's timeline.
#[derive(Debug, Serialize, ToSchema)]
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
#[derive(Debug, Serialize, ToSchema)]
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

/// The full view of a deployment.
pub async fn deployment_view(tx: &mut Tx, scope: &TenantScope, dep: Deployment) -> ApiResult<DeploymentView> {
    let events = tx.deployment_events(scope, &dep.id).await?;
    let release = match &dep.release_id {
        Some(id) => tx.release(scope, id).await?.map(|r| ReleaseRef {
            id: r.id.to_string(),
            version: format!("v{}", r.version),
        }),
        None => None,
    };
    Ok(DeploymentView {
        id: dep.id.to_string(),
        reference: deployment_ref(dep.number),
        project_id: dep.project_id.to_string(),
        environment_id: dep.environment_id.to_string(),
        status: dep.status,
        branch: dep.branch,
        commit_sha: dep.commit_sha,
        commit_message: dep.commit_message,
        note: dep.note,
        trigger: dep.trigger,
        error: dep.error,
        release_id: dep.release_id.map(|r| r.to_string()),
        release,
        attempt: dep.attempt,
        created_at: dep.created_at,
        started_at: dep.started_at,
        finished_at: dep.finished_at,
        events: events
            .into_iter()
            .map(|e| EventView {
                at: e.at,
                kind: e.kind,
                message: e.message,
            })
            .collect(),
    })
}

/// The deployment named by `raw` (`dep_…` or `DEP-0001`), or 404.
pub async fn find_deployment(tx: &mut Tx, scope: &TenantScope, raw: &str) -> ApiResult<Deployment> {
    let not_found = || ApiError::not_found(format!("deployment {raw} not found"));
    let found = if let Some(number) = parse_deployment_ref(raw) {
        tx.deployment_by_number(scope, number).await?
    } else {
        let id = DeploymentId::parse(raw).map_err(|_| not_found())?;
        tx.deployment(scope, &id).await?
    };
    found.ok_or_else(not_found)
}
