//! Rows of connections, projects and environments, and their conversion into the model.

use super::rows::parse_ts;
use crate::StoreError;
use crate::model::{Connection, Environment, Project};
use shipyard_core::{ConnectionId, EnvironmentId, GitUrl, ProjectId, ProjectStatus, ProjectType, Slug, TenantId};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

#[derive(sqlx::FromRow)]
pub(crate) struct ConnectionRow {
    id: String,
    tenant_id: String,
    name: String,
    url: String,
    default_branch: String,
    auth_kind: String,
    auth_sealed: Option<Vec<u8>>,
    webhook_secret_sealed: Vec<u8>,
    created_at: String,
}

impl TryFrom<ConnectionRow> for Connection {
    type Error = StoreError;
    fn try_from(r: ConnectionRow) -> Result<Self, StoreError> {
        Ok(Connection {
            id: ConnectionId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            name: r.name,
            url: GitUrl::from_trusted(r.url),
            default_branch: r.default_branch,
            auth_kind: r.auth_kind,
            auth_sealed: r.auth_sealed,
            webhook_secret_sealed: r.webhook_secret_sealed,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ProjectRow {
    id: String,
    tenant_id: String,
    name: String,
    slug: String,
    description: String,
    #[sqlx(rename = "type")]
    project_type: String,
    status: String,
    repository_connection_id: String,
    build_config: String,
    runtime_config: String,
    detection: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        let project_type: ProjectType = serde_json::from_value(serde_json::Value::String(r.project_type))
            .map_err(|e| corrupt("project type", e))?;
        Ok(Project {
            id: ProjectId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            name: r.name,
            slug: Slug::from_trusted(r.slug),
            description: r.description,
            project_type,
            status: ProjectStatus::parse(&r.status).ok_or_else(|| corrupt("project status", &r.status))?,
            connection_id: ConnectionId::from_trusted(r.repository_connection_id),
            build: serde_json::from_str(&r.build_config).map_err(|e| corrupt("build config", e))?,
            runtime: serde_json::from_str(&r.runtime_config).map_err(|e| corrupt("runtime config", e))?,
            detection: r.detection,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EnvironmentRow {
    id: String,
    project_id: String,
    name: String,
    slug: String,
    branch: String,
    is_production: bool,
    host_label: String,
    created_at: String,
}

impl TryFrom<EnvironmentRow> for Environment {
    type Error = StoreError;
    fn try_from(r: EnvironmentRow) -> Result<Self, StoreError> {
        Ok(Environment {
            id: EnvironmentId::from_trusted(r.id),
            project_id: ProjectId::from_trusted(r.project_id),
            name: r.name,
            slug: Slug::from_trusted(r.slug),
            branch: r.branch,
            is_production: r.is_production,
            host_label: r.host_label,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

/// Serialises a config for storage.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("config", e))
}
