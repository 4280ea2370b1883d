//! Projects and their environments, and what detection found.

use crate::config::ConfigRequest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::detection::Detection;
use shipyard_core::{BuildConfig, ProjectStatus, ProjectType, RuntimeConfig};
use utoipa::ToSchema;

/// An environment with its live URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentView {
    /// `env_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Fixed at creation; part of the live host.
    pub slug: String,
    /// Branch it deploys.
    pub branch: String,
    /// Live URL on the platform's apps domain.
    pub url: String,
}

/// A project's build and runtime configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConfigView {
    /// How it builds.
    pub build: BuildConfig,
    /// How it runs.
    pub runtime: RuntimeConfig,
}

/// What detection found when the project was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetectionSummary {
    /// The type detection suggested (null: none).
    #[serde(rename = "type")]
    pub project_type: Option<ProjectType>,
    /// The framework recognised.
    pub framework: Option<String>,
    /// One sentence per fact used.
    pub evidence: Vec<String>,
    /// 0.0 to 1.0.
    pub confidence: f64,
}

/// A project as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    /// `prj_…`
    pub id: String,
    /// The workspace.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Fixed at creation; part of live hosts.
    pub slug: String,
    /// Free text.
    pub description: String,
    /// static, react, node or python.
    #[serde(rename = "type")]
    pub project_type: ProjectType,
    /// active, paused or archived.
    pub status: ProjectStatus,
    /// The repository it builds from.
    pub repository_connection_id: String,
    /// Directory of the app in the repository (`""` is the root).
    pub root_directory: String,
    /// Branch of the production environment.
    pub production_branch: String,
    /// Whether it runs a server process.
    pub runs_server: bool,
    /// Build and runtime configuration.
    pub config: ConfigView,
    /// Its environments, production first.
    pub environments: Vec<EnvironmentView>,
    /// Detection's findings at creation.
    pub detection: Option<DetectionSummary>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `POST /tenants/<t>/projects/<p>/environments`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateEnvironmentRequest {
    /// Display name; the slug is made from it.
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Branch it deploys.
    #[schema(
        max_length = 255,
        pattern = r"^[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*(/[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*)*$"
    )]
    pub branch: String,
}

/// `PATCH /tenants/<t>/projects/<p>/environments/<e>`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateEnvironmentRequest {
    /// New display name (the slug stays).
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// New branch.
    #[schema(
        max_length = 255,
        pattern = r"^[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*(/[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*)*$"
    )]
    pub branch: Option<String>,
}

/// `POST /tenants/<t>/projects`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateProjectRequest {
    /// Display name; the slug is made from it.
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// static, react, node or python.
    #[serde(rename = "type")]
    pub project_type: ProjectType,
    /// The repository to build from.
    pub repository_connection_id: String,
    /// Free text.
    pub description: Option<String>,
    /// Directory of the app inside the repository.
    pub root_directory: Option<String>,
    /// Branch of the production environment (default: the connection's default branch).
    #[schema(
        max_length = 255,
        pattern = r"^[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*(/[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*)*$"
    )]
    pub production_branch: Option<String>,
    /// Must agree with `type` (false for static/react, true for node/python).
    pub runs_server: Option<bool>,
    /// Explicit configuration; it always wins over detection.
    pub config: Option<ConfigRequest>,
}

/// `PATCH /tenants/<t>/projects/<p>`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProjectRequest {
    /// New display name (the slug stays).
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New root directory.
    pub root_directory: Option<String>,
    /// active, paused or archived.
    pub status: Option<ProjectStatus>,
}

/// `POST /tenants/<t>/projects/detect`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetectRequest {
    /// The repository to inspect.
    pub repository_connection_id: String,
    /// Branch to read (default: the connection's default branch).
    #[schema(
        max_length = 255,
        pattern = r"^[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*(/[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*)*$"
    )]
    pub branch: Option<String>,
    /// Directory of the app inside the repository.
    pub root_directory: Option<String>,
}

/// Detection's answer, with the commit it read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DetectResponse {
    /// What was found.
    #[serde(flatten)]
    pub detection: Detection,
    /// The branch read.
    pub branch: String,
    /// The commit read.
    pub commit_sha: String,
}
