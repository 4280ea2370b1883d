//! Custom domains as stored.

use chrono::{DateTime, Utc};
use shipyard_core::custom_domain::DomainStatus;
use shipyard_core::{DomainId, EnvironmentId, ProjectId, TenantId};

/// A custom domain of an environment.
#[derive(Debug, Clone)]
pub struct Domain {
    /// `dom_…`
    pub id: DomainId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The project.
    pub project_id: ProjectId,
    /// The environment it serves.
    pub environment_id: EnvironmentId,
    /// ASCII, lowercase, no root dot.
    pub hostname: String,
    /// Where its proof stands.
    pub status: DomainStatus,
    /// The value its TXT record must hold.
    pub challenge: String,
    /// What the last failed verify saw.
    pub error: Option<String>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it was verified.
    pub verified_at: Option<DateTime<Utc>>,
}

/// A domain to add.
#[derive(Debug, Clone)]
pub struct NewDomain {
    /// `dom_…`
    pub id: DomainId,
    /// The project.
    pub project_id: ProjectId,
    /// The environment it will serve.
    pub environment_id: EnvironmentId,
    /// ASCII, lowercase, no root dot (`CustomHostname::ascii`).
    pub hostname: String,
    /// The value its TXT record must hold.
    pub challenge: String,
}
