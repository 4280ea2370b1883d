//! Repository connections, projects and environments.

use chrono::{DateTime, Utc};
use shipyard_core::{
    BuildConfig, ConnectionId, EnvironmentId, GitUrl, ProjectId, ProjectStatus, ProjectType, RuntimeConfig, Slug,
    TenantId,
};

/// A connected git repository.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Its id.
    pub id: ConnectionId,
    /// The workspace it belongs to.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: String,
    /// Remote URL (never with credentials).
    pub url: GitUrl,
    /// Branch new projects deploy by default.
    pub default_branch: String,
    /// `none`, `token` or `ssh-key`.
    pub auth_kind: String,
    /// The credential sealed by the secret box.
    pub auth_sealed: Option<Vec<u8>>,
    /// Webhook signing secret, sealed.
    pub webhook_secret_sealed: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What is needed to record a connection (its id is chosen first, so credentials can be
/// sealed with it as context).
#[derive(Debug, Clone)]
pub struct NewConnection {
    /// The id to use.
    pub id: ConnectionId,
    /// Display name.
    pub name: String,
    /// Remote URL.
    pub url: GitUrl,
    /// Default branch.
    pub default_branch: String,
    /// `none`, `token` or `ssh-key`.
    pub auth_kind: &'static str,
    /// Sealed credential.
    pub auth_sealed: Option<Vec<u8>>,
    /// Sealed webhook secret.
    pub webhook_secret_sealed: Vec<u8>,
}

/// A project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Its id.
    pub id: ProjectId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// Display name.
    pub name: String,
    /// Unique in the workspace, fixed at creation.
    pub slug: Slug,
    /// Free text.
    pub description: String,
    /// What it is.
    pub project_type: ProjectType,
    /// Active, paused or archived.
    pub status: ProjectStatus,
    /// The repository it builds from.
    pub connection_id: ConnectionId,
    /// How it builds (includes the root directory).
    pub build: BuildConfig,
    /// How it runs.
    pub runtime: RuntimeConfig,
    /// Detection's findings at creation, as JSON.
    pub detection: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Project {
    /// Why nothing of it may go live now (`action`: "deploy", "roll back"), when it is paused or
    /// archived; the one wording of that rule.
    pub fn refuses(&self, action: &str) -> Option<String> {
        (self.status != ProjectStatus::Active).then(|| {
            format!(
                "project {} is {}; set its status to active to {action}",
                self.slug,
                self.status.as_str()
            )
        })
    }
}

/// What is needed to make a project and its production environment.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Display name.
    pub name: String,
    /// Slug (checked by the caller).
    pub slug: Slug,
    /// Free text.
    pub description: String,
    /// Type.
    pub project_type: ProjectType,
    /// Repository.
    pub connection_id: ConnectionId,
    /// Build config.
    pub build: BuildConfig,
    /// Runtime config.
    pub runtime: RuntimeConfig,
    /// Detection findings as JSON.
    pub detection: Option<String>,
    /// Branch of the production environment.
    pub production_branch: String,
}

/// A change to a project; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status.
    pub status: Option<ProjectStatus>,
    /// New build config.
    pub build: Option<BuildConfig>,
    /// New runtime config.
    pub runtime: Option<RuntimeConfig>,
}

/// List filters.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    /// Case-insensitive substring of name or slug.
    pub search: Option<String>,
    /// Exact status.
    pub status: Option<ProjectStatus>,
    /// Only these (a project-limited token's).
    pub only: Option<Vec<ProjectId>>,
}

/// An environment of a project.
#[derive(Debug, Clone)]
pub struct Environment {
    /// Its id.
    pub id: EnvironmentId,
    /// Its project.
    pub project_id: ProjectId,
    /// Display name.
    pub name: String,
    /// Unique in the project, fixed at creation.
    pub slug: Slug,
    /// Branch it deploys.
    pub branch: String,
    /// Whether it is the production environment (made with the project).
    pub is_production: bool,
    /// The first label of its live host (`<project>-<env>`, see `shipyard_core::HostLabel`).
    pub host_label: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What is needed to make an environment.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    /// Display name.
    pub name: String,
    /// Slug.
    pub slug: Slug,
    /// Branch.
    pub branch: String,
}
