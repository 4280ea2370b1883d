//! Accounts: users, workspaces, memberships and tokens.

use chrono::{DateTime, Utc};
use shipyard_core::{Email, PasswordHash, Role, Slug, TenantId, TokenId, UserId};

/// A user account.
#[derive(Debug, Clone)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Login address, unique.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// None for users made by `admin bootstrap` without a password: they use tokens only.
    pub password_hash: Option<PasswordHash>,
    /// Platform admins reach `/admin/*`.
    pub is_platform_admin: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// What is needed to make a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login address.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// Hashed password, if any.
    pub password_hash: Option<PasswordHash>,
    /// Whether the user administers the platform.
    pub is_platform_admin: bool,
}

/// A workspace.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Its id.
    pub id: TenantId,
    /// Display name (need not be unique).
    pub name: String,
    /// Unique slug, fixed at creation.
    pub slug: Slug,
    /// Deploy quota per UTC day.
    pub deploys_per_day: i64,
    /// MiB the instances of its active releases may take together.
    pub memory_mb_limit: i64,
    /// GiB its releases, build disks and instances' HOMEs may take together.
    pub storage_gb_limit: i64,
    /// Managed databases it may hold.
    pub max_databases: i64,
    /// A suspended workspace is read-only.
    pub suspended: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Who owns what lasts on disk: every workspace with its storage limit (GiB), and the workspace
/// of every project and release (ids as text, keyed by id).
#[derive(Debug, Clone, Default)]
pub struct StorageOwners {
    /// Workspace id → `storageGbLimit`.
    pub limits: std::collections::HashMap<String, i64>,
    /// Project id → workspace id.
    pub projects: std::collections::HashMap<String, String>,
    /// Release id → workspace id.
    pub releases: std::collections::HashMap<String, String>,
}

/// A platform admin's change to a workspace; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    /// New deploy quota.
    pub deploys_per_day: Option<i64>,
    /// New memory limit (MiB).
    pub memory_mb_limit: Option<i64>,
    /// New storage limit (GiB).
    pub storage_gb_limit: Option<i64>,
    /// New cap on managed databases.
    pub max_databases: Option<i64>,
    /// New suspension state.
    pub suspended: Option<bool>,
}

/// One of a user's workspaces, as `/auth/me` lists them.
#[derive(Debug, Clone)]
pub struct Membership {
    /// The workspace.
    pub tenant_id: TenantId,
    /// Its name.
    pub tenant_name: String,
    /// Its slug.
    pub tenant_slug: Slug,
    /// The user's role there.
    pub role: Role,
}

/// One member of a workspace, as the members routes list them.
#[derive(Debug, Clone)]
pub struct Member {
    /// The user.
    pub user_id: UserId,
    /// Their email.
    pub email: Email,
    /// Their name.
    pub name: String,
    /// Their role here.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// A personal access token as listed (never the token itself).
#[derive(Debug, Clone)]
pub struct ApiToken {
    /// Its id.
    pub id: TokenId,
    /// The owner's label.
    pub name: String,
    /// First characters, to tell tokens apart.
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last authenticated request, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// What it may do (each scope includes the ones below it).
    pub scopes: Vec<shipyard_core::TokenScope>,
    /// The client address of its last use.
    pub last_used_ip: Option<String>,
    /// The projects it is limited to (None: every project its owner can reach).
    pub project_ids: Option<Vec<shipyard_core::ProjectId>>,
}

/// What is needed to record a token.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// The owner's label.
    pub name: &'a str,
    /// Its first characters, to tell tokens apart.
    pub prefix: &'a str,
    /// SHA-256 of the token, hex.
    pub token_hash: &'a str,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it may do.
    pub scopes: &'a [shipyard_core::TokenScope],
    /// The projects it is limited to (None: every project).
    pub projects: Option<&'a [shipyard_core::ProjectId]>,
}

impl ApiToken {
    /// The widest of its scopes: what it may do.
    pub fn grant(&self) -> shipyard_core::TokenScope {
        self.scopes
            .iter()
            .copied()
            .max()
            .unwrap_or(shipyard_core::TokenScope::Read)
    }
}
