//! Deployments: trigger, list, detail, logs (JSON and live SSE), cancel and retry.

pub mod actions;
pub mod logs;
pub mod read;
pub mod trigger;

use crate::error::{ApiError, ApiResult};
pub use shipyard_api_types::deployments::{DeploymentView, EventView, ReleaseRef};
use shipyard_core::DeploymentId;
use shipyard_core::deployment::{deployment_ref, parse_deployment_ref};
use shipyard_store::{Deployment, Deployments, Releases, TenantScope, Tx};

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
