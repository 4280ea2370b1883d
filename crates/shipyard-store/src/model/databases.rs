//! Managed databases as stored.

use chrono::{DateTime, Utc};
use shipyard_core::{DatabaseId, DatabaseStatus, EnvironmentId, ProjectId, TenantId};

/// A managed database: its cluster's place on this host and its sealed credentials.
#[derive(Debug, Clone)]
pub struct Database {
    /// `db_…`
    pub id: DatabaseId,
    /// The workspace it belongs to.
    pub tenant_id: TenantId,
    /// Unique in its workspace.
    pub name: String,
    /// `postgres`.
    pub engine: String,
    /// The server's major version (`15`).
    pub version: String,
    /// Where it is in its life.
    pub status: DatabaseStatus,
    /// The host's loopback port it listens on, for its whole life.
    pub port: u16,
    /// The OS uid its processes run as, never any project's.
    pub uid: u32,
    /// The tenant's database inside the cluster.
    pub database_name: String,
    /// The tenant's role, owner of that database.
    pub username: String,
    /// The tenant role's password, sealed.
    pub password_sealed: Vec<u8>,
    /// The platform superuser's password (over the unix socket only), sealed.
    pub superuser_password_sealed: Vec<u8>,
    /// Memory limit of its processes together.
    pub memory_mb: u32,
    /// Size of its data disk.
    pub disk_mb: u32,
    /// Why provisioning failed or why it was given up on.
    pub error: Option<String>,
    /// How its server last ended on its own (a crash, an out-of-memory kill).
    pub last_exit_reason: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
    /// The role that owns the database and everything in it (the first login).
    pub owner_role: String,
    /// The login a rotation replaced, valid until `previous_valid_until`.
    pub previous_username: Option<String>,
    /// When the replaced login's password stops working.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// What a password rotation stores: the new login and its password, and the old login's end.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The login the URL names from now on.
    pub username: String,
    /// Its password, sealed.
    pub password_sealed: Vec<u8>,
    /// The login it replaces.
    pub previous_username: String,
    /// When the replaced login's password stops working.
    pub previous_valid_until: DateTime<Utc>,
}

/// What a new database is made with; its status starts as `provisioning`.
#[derive(Debug, Clone)]
pub struct NewDatabase {
    /// `db_…`
    pub id: DatabaseId,
    /// Unique in its workspace.
    pub name: String,
    /// `postgres`.
    pub engine: String,
    /// The server's major version.
    pub version: String,
    /// The port it will listen on.
    pub port: u16,
    /// The uid it will run as.
    pub uid: u32,
    /// The tenant's database.
    pub database_name: String,
    /// The tenant's role.
    pub username: String,
    /// The tenant role's password, sealed.
    pub password_sealed: Vec<u8>,
    /// The platform superuser's password, sealed.
    pub superuser_password_sealed: Vec<u8>,
    /// Memory limit.
    pub memory_mb: u32,
    /// Data disk size.
    pub disk_mb: u32,
}

/// A change of a database's status, with what explains it.
#[derive(Debug, Clone)]
pub struct DatabaseState {
    /// The new status.
    pub status: DatabaseStatus,
    /// Why it failed (set with `failed`, cleared otherwise).
    pub error: Option<String>,
    /// How its server last ended on its own; `None` keeps the stored one.
    pub last_exit_reason: Option<String>,
}

/// A database made available to a project's builds and instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The database.
    pub database_id: DatabaseId,
    /// The project whose sandboxes get it.
    pub project_id: ProjectId,
    /// The one environment; `None` for every environment of the project (previews, #46, will
    /// attach databases of their own).
    pub environment_id: Option<EnvironmentId>,
    /// The variable that holds its URL.
    pub env_var: String,
}

impl Attachment {
    /// Whether the attachment reaches `environment` of its project.
    pub fn covers(&self, environment: &EnvironmentId) -> bool {
        self.environment_id.as_ref().is_none_or(|e| e == environment)
    }
}
