//! Databases attached to projects; every method is confined to the scope's workspace.

use crate::Result;
use crate::model::Attachment;
use crate::scope::TenantScope;
use shipyard_core::{DatabaseId, EnvironmentId, ProjectId};
use std::future::Future;

/// Which projects' sandboxes get which databases.
pub trait Attachments {
    /// Records an attachment; `Conflict(DatabaseAttachment)` when the database is attached to
    /// that project and environment (or to all of them) already.
    fn attach_database(&mut self, scope: &TenantScope, new: &Attachment) -> impl Future<Output = Result<()>> + Send;
    /// Removes the attachment to exactly that project and environment (`None`: the one for
    /// every environment); false when there was none.
    fn detach_database(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        project: &ProjectId,
        environment: Option<&EnvironmentId>,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// A database's attachments, oldest first.
    fn database_attachments(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
    ) -> impl Future<Output = Result<Vec<Attachment>>> + Send;
    /// Every attachment of the platform (what `serve` allows at start).
    fn all_attachments(&mut self) -> impl Future<Output = Result<Vec<Attachment>>> + Send;
    /// Every attachment to a project (each environment's and the project-wide ones), oldest
    /// first; `Attachment::covers` says which reach an environment.
    fn project_attachments(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<Attachment>>> + Send;
}
