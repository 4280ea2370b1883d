//! Repository connections, projects and environments; every method is confined to the
//! scope's workspace.

use crate::Result;
use crate::model::{
    Connection, Environment, NewConnection, NewEnvironment, NewProject, Page, Paged, Project, ProjectFilter,
    ProjectPatch,
};
use crate::scope::TenantScope;
use shipyard_core::{ConnectionId, DeploymentId, EnvironmentId, ProjectId, ReleaseId};
use std::future::Future;

/// Repository connections.
pub trait Connections {
    /// Records a connection.
    fn create_connection(
        &mut self,
        scope: &TenantScope,
        new: &NewConnection,
    ) -> impl Future<Output = Result<Connection>> + Send;
    /// The workspace's connections, oldest first.
    fn list_connections(
        &mut self,
        scope: &TenantScope,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Connection>>> + Send;
    /// One connection.
    fn connection(
        &mut self,
        scope: &TenantScope,
        id: &ConnectionId,
    ) -> impl Future<Output = Result<Option<Connection>>> + Send;
    /// How many projects build from the connection.
    fn connection_usage(&mut self, scope: &TenantScope, id: &ConnectionId) -> impl Future<Output = Result<i64>> + Send;
    /// Deletes a connection; false when there is none.
    fn delete_connection(
        &mut self,
        scope: &TenantScope,
        id: &ConnectionId,
    ) -> impl Future<Output = Result<bool>> + Send;
}

/// Projects.
pub trait Projects {
    /// Makes a project and its production environment; `Conflict(ProjectSlug)` or
    /// `Conflict(EnvironmentHost)` on a clash.
    fn create_project(&mut self, scope: &TenantScope, new: &NewProject)
    -> impl Future<Output = Result<Project>> + Send;
    /// The workspace's projects, oldest first.
    fn list_projects(
        &mut self,
        scope: &TenantScope,
        filter: &ProjectFilter,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Project>>> + Send;
    /// One project.
    fn project(&mut self, scope: &TenantScope, id: &ProjectId) -> impl Future<Output = Result<Option<Project>>> + Send;
    /// Applies a change and returns the project as it now is.
    fn update_project(
        &mut self,
        scope: &TenantScope,
        id: &ProjectId,
        patch: &ProjectPatch,
    ) -> impl Future<Output = Result<Option<Project>>> + Send;
    /// What a project (or one environment of it) leaves outside the database: its releases
    /// (artifacts) and deployments (log streams), to be removed with it.
    fn leftovers(
        &mut self,
        scope: &TenantScope,
        id: &ProjectId,
        environment: Option<&EnvironmentId>,
    ) -> impl Future<Output = Result<(Vec<ReleaseId>, Vec<DeploymentId>)>> + Send;
    /// Deletes a project with its environments; false when there is none.
    fn delete_project(&mut self, scope: &TenantScope, id: &ProjectId) -> impl Future<Output = Result<bool>> + Send;
}

/// Environments of projects.
pub trait Environments {
    /// A project's environments, production first, then by creation.
    fn environments(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<Environment>>> + Send;
    /// Every environment of the workspace, production first, then by creation.
    fn workspace_environments(&mut self, scope: &TenantScope) -> impl Future<Output = Result<Vec<Environment>>> + Send;
    /// One environment of any project of the workspace.
    fn environment(
        &mut self,
        scope: &TenantScope,
        id: &EnvironmentId,
    ) -> impl Future<Output = Result<Option<Environment>>> + Send;
    /// Adds an environment; `Conflict(EnvironmentSlug / EnvironmentHost)` on a clash.
    fn create_environment(
        &mut self,
        scope: &TenantScope,
        project: &Project,
        new: &NewEnvironment,
        is_production: bool,
    ) -> impl Future<Output = Result<Environment>> + Send;
    /// Renames an environment or moves it to another branch.
    fn update_environment(
        &mut self,
        scope: &TenantScope,
        id: &EnvironmentId,
        name: Option<&str>,
        branch: Option<&str>,
    ) -> impl Future<Output = Result<Option<Environment>>> + Send;
    /// Deletes an environment; false when there is none.
    fn delete_environment(
        &mut self,
        scope: &TenantScope,
        id: &EnvironmentId,
    ) -> impl Future<Output = Result<bool>> + Send;
}
