//! The rows of deployments and their events as SQLite returns them, and their conversion to
//! the model.

use super::rows::parse_ts;
use crate::model::{Deployment, DeploymentEvent};
use crate::{Result, StoreError};
use shipyard_core::{DeploymentId, DeploymentStatus, DeploymentTrigger, EnvironmentId, ProjectId, ReleaseId, TenantId};

#[derive(sqlx::FromRow)]
pub(crate) struct DeploymentRow {
    id: String,
    tenant_id: String,
    project_id: String,
    environment_id: String,
    number: i64,
    status: String,
    branch: String,
    commit_sha: Option<String>,
    commit_message: Option<String>,
    note: Option<String>,
    trigger: String,
    clear_cache: bool,
    error: Option<String>,
    release_id: Option<String>,
    retry_of: Option<String>,
    attempt: i64,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
}

impl TryFrom<DeploymentRow> for Deployment {
    type Error = StoreError;
    fn try_from(r: DeploymentRow) -> Result<Self> {
        let trigger = match r.trigger.as_str() {
            "retry" => DeploymentTrigger::Retry,
            "webhook" => DeploymentTrigger::Webhook,
            _ => DeploymentTrigger::Api,
        };
        Ok(Deployment {
            id: DeploymentId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            project_id: ProjectId::from_trusted(r.project_id),
            environment_id: EnvironmentId::from_trusted(r.environment_id),
            number: r.number,
            status: DeploymentStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("status {}", r.status)))?,
            branch: r.branch,
            commit_sha: r.commit_sha,
            commit_message: r.commit_message,
            note: r.note,
            trigger,
            clear_cache: r.clear_cache,
            error: r.error,
            release_id: r.release_id.map(ReleaseId::from_trusted),
            retry_of: r.retry_of.map(DeploymentId::from_trusted),
            attempt: r.attempt,
            created_at: parse_ts(&r.created_at)?,
            started_at: r.started_at.as_deref().map(parse_ts).transpose()?,
            finished_at: r.finished_at.as_deref().map(parse_ts).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    at: String,
    #[sqlx(rename = "type")]
    kind: String,
    message: String,
}

impl TryFrom<EventRow> for DeploymentEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self> {
        Ok(DeploymentEvent {
            at: parse_ts(&r.at)?,
            kind: r.kind,
            message: r.message,
        })
    }
}
