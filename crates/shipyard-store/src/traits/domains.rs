//! Custom domains of a workspace's environments.

use crate::Result;
use crate::model::{Domain, NewDomain};
use crate::scope::TenantScope;
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
    /// Removes a domain; false when there was none.
    fn delete_domain(&mut self, scope: &TenantScope, id: &DomainId) -> impl Future<Output = Result<bool>> + Send;
}
