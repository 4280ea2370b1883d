//! Custom domains as stored.

use chrono::{DateTime, Utc};
use shipyard_core::custom_domain::{DnsRecord, DomainStatus};
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
    /// What the last look at its routing records saw.
    pub dns: DnsLook,
    /// Since when a verified domain's TXT record has been gone (None: seen at the last look).
    pub proof_missing_since: Option<DateTime<Utc>>,
}

/// One look at a hostname's CNAME, A and AAAA records.
#[derive(Debug, Clone, Default)]
pub struct DnsLook {
    /// The records seen (empty before the first look, or when the look failed).
    pub observed: Vec<DnsRecord>,
    /// Whether they send the hostname here.
    pub points_here: bool,
    /// Why the look failed, when it did.
    pub error: Option<String>,
    /// When it was taken (None: never yet).
    pub checked_at: Option<DateTime<Utc>>,
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

/// A domain due for a look, with what names its environment's live host.
#[derive(Debug, Clone)]
pub struct DueDomain {
    /// The domain.
    pub domain: Domain,
    /// Its environment's host label.
    pub host_label: String,
    /// Its workspace's slug.
    pub workspace_slug: String,
}
