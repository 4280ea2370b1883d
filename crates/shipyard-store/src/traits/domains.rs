//! Custom domains of a workspace's environments.

use crate::Result;
use crate::model::{DnsLook, Domain, DueDomain, NewDomain};
use crate::scope::TenantScope;
use chrono::{DateTime, Utc};
use shipyard_core::{DomainId, ProjectId};
use std::future::Future;

/// Custom domains.
pub trait Domains {
    /// Stores a new `pending` domain; `Conflict(DomainHostname)` when the project has the
    /// hostname already.
    fn create_domain(&mut self, scope: &TenantScope, new: &NewDomain) -> impl Future<Output = Result<Domain>> + Send;
    /// The project's domains, oldest first.
    fn list_domains(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<Domain>>> + Send;
    /// One domain of the project.
    fn domain(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        id: &DomainId,
    ) -> impl Future<Output = Result<Option<Domain>>> + Send;
    /// Marks a domain verified; `Conflict(DomainVerified)` when another holds the hostname
    /// verified; None when it is gone.
    fn verify_domain(
        &mut self,
        scope: &TenantScope,
        id: &DomainId,
    ) -> impl Future<Output = Result<Option<Domain>>> + Send;
    /// Records a failed verify with what it saw (a verified domain stays verified); None when
    /// it is gone.
    fn fail_domain(
        &mut self,
        scope: &TenantScope,
        id: &DomainId,
        error: &str,
    ) -> impl Future<Output = Result<Option<Domain>>> + Send;
    /// How many domains the workspace has.
    fn count_domains(&mut self, scope: &TenantScope) -> impl Future<Output = Result<i64>> + Send;
    /// Records a look at a domain's routing records and when to look again; None when it is
    /// gone or a later look is recorded already (verify and the re-check may look at once).
    fn record_dns(
        &mut self,
        id: &DomainId,
        look: &DnsLook,
        next_check_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Domain>>> + Send;
    /// Records whether a verified domain's TXT record was seen (`missing`: None) or not (what
    /// was seen instead, kept as its error; the first such look starts its grace); None when it
    /// is gone or not verified.
    fn record_proof(
        &mut self,
        id: &DomainId,
        missing: Option<&str>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Domain>>> + Send;
    /// Unverifies a verified domain whose proof stayed gone past its grace; None when it is
    /// gone or not verified.
    fn lapse_domain(&mut self, id: &DomainId, error: &str) -> impl Future<Output = Result<Option<Domain>>> + Send;
    /// Up to `limit` domains (of any workspace) whose next look is due at `now`, most overdue
    /// first.
    fn due_domains(&mut self, now: DateTime<Utc>, limit: i64) -> impl Future<Output = Result<Vec<DueDomain>>> + Send;
    /// Removes a domain; false when there was none.
    fn delete_domain(&mut self, scope: &TenantScope, id: &DomainId) -> impl Future<Output = Result<bool>> + Send;
}
