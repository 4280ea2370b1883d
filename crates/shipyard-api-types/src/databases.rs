//! Managed databases: a PostgreSQL server per database, and how to reach it.

use crate::Secret;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::DatabaseStatus;
use utoipa::ToSchema;

/// What a database may use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseLimits {
    /// Memory of all its processes together, MiB; counts toward the workspace's memory limit.
    pub memory_mb: u32,
    /// Its data disk, MiB; counts toward the workspace's storage limit.
    pub disk_mb: u32,
}

/// A project the database's URL is given to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseAttachment {
    /// `prj_…`
    pub project_id: String,
    /// `env_…`; null: every environment of the project.
    pub environment_id: Option<String>,
    /// The variable that holds the URL.
    pub env_var: String,
}

/// A managed database as the API shows it: never its password (`…/connection` has it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseView {
    /// `db_…`
    pub id: String,
    /// Unique in the workspace.
    pub name: String,
    /// `postgres`.
    pub engine: String,
    /// The server's major version.
    pub version: String,
    /// provisioning, running, stopped or failed.
    pub status: DatabaseStatus,
    /// Where it listens, from the server's own host.
    pub host: String,
    /// Its port there.
    pub port: u16,
    /// The database to connect to.
    pub database_name: String,
    /// The role to connect as.
    pub username: String,
    /// Projects its URL is given to.
    pub attachments: Vec<DatabaseAttachment>,
    /// What it may use.
    pub limits: DatabaseLimits,
    /// The database's size on disk, while it runs.
    pub size_bytes: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// How its server last ended on its own (a crash, an out-of-memory kill).
    pub last_exit_reason: Option<String>,
    /// How its newest backup that ended went: a failed proof shows here, not on restore day.
    pub last_backup: Option<crate::backups::LastBackup>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Limits asked for at creation; each has a default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DatabaseLimitsRequest {
    /// MiB of memory, 64–65536 (default 256).
    #[schema(minimum = 64, maximum = 65536)]
    pub memory_mb: Option<u32>,
    /// MiB of disk, 64–1048576 (default 1024).
    #[schema(minimum = 64, maximum = 1048576)]
    pub disk_mb: Option<u32>,
}

/// `POST /tenants/<t>/databases`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDatabaseRequest {
    /// 1–100 characters, unique in the workspace.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `postgres`, the one engine offered.
    pub engine: String,
    /// A major version installed on the server (default: the newest).
    pub version: Option<String>,
    /// What it may use.
    pub limits: Option<DatabaseLimitsRequest>,
}

/// `GET /tenants/<t>/databases/<id>/connection`: for psql and migrations on the server's host.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseConnection {
    /// `postgres://user:password@host:port/database`
    #[schema(value_type = String)]
    pub url: Secret,
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database.
    pub database_name: String,
    /// Role.
    pub username: String,
    /// The role's password.
    #[schema(value_type = String)]
    pub password: Secret,
}

/// `POST …/databases/<id>/attach`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachDatabaseRequest {
    /// The project whose builds and instances get the database (`prj_…`).
    pub project_id: String,
    /// One environment of it (`env_…`); without it, every environment of the project.
    pub environment_id: Option<String>,
    /// The variable that holds the URL (default `DATABASE_URL`).
    #[schema(max_length = 255)]
    pub env_var: Option<String>,
}

/// `POST …/databases/<id>/detach`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetachDatabaseRequest {
    /// The project it is attached to.
    pub project_id: String,
    /// The environment it is attached to; without it, the attachment to every environment.
    pub environment_id: Option<String>,
}

/// What an attach or a detach did, and when it takes effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentChange {
    /// The database, with its attachments now.
    pub database: DatabaseView,
    /// When the change reaches the project's sandboxes, in words.
    pub takes_effect: String,
    /// The deployments `?redeploy=true` queued (`dep_…`), one per environment covered.
    pub deployments: Vec<String>,
}

/// `POST …/databases/<id>/rotate-password`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotatePasswordRequest {
    /// How long the old password keeps working, 0–604800 seconds (default 300).
    #[schema(minimum = 0, maximum = 604800)]
    pub grace_seconds: Option<u32>,
}

/// What a rotation did, and when the attached apps get the new URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordRotation {
    /// The database, naming its new login (`username`).
    pub database: DatabaseView,
    /// When the old login's password stops working.
    pub previous_valid_until: DateTime<Utc>,
    /// When the attached environments get the new URL, in words.
    pub takes_effect: String,
    /// The deployments `?redeploy=true` queued (`dep_…`).
    pub deployments: Vec<String>,
}
