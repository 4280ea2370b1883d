//! Response shapes shared by several resources.

use chrono::{DateTime, Utc};
use serde::Serialize;
use shipyard_store::{Membership, Tenant, User};
use utoipa::ToSchema;

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    /// `usr_…`
    pub id: String,
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Whether the user administers the platform.
    pub is_platform_admin: bool,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            name: u.name,
            is_platform_admin: u.is_platform_admin,
            created_at: u.created_at,
        }
    }
}

/// One of the caller's workspaces.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipView {
    /// `ten_…`: use it in `/tenants/<tenantId>/…`.
    pub tenant_id: String,
    /// The workspace's name.
    pub tenant_name: String,
    /// The workspace's slug (part of app hostnames).
    pub tenant_slug: String,
    /// The caller's role there.
    #[schema(value_type = String, example = "owner")]
    pub role: shipyard_core::Role,
}

impl From<Membership> for MembershipView {
    fn from(m: Membership) -> Self {
        Self {
            tenant_id: m.tenant_id.to_string(),
            tenant_name: m.tenant_name,
            tenant_slug: m.tenant_slug.to_string(),
            role: m.role,
        }
    }
}

/// A workspace as platform admins see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    /// `ten_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// Deploy quota per UTC day.
    pub deploys_per_day: i64,
    /// MiB the instances of its active releases may take together (`instances × limits.memoryMb`).
    pub memory_mb_limit: i64,
    /// GiB its releases, build disks and instances' HOMEs may take together.
    pub storage_gb_limit: i64,
    /// Suspended workspaces are read-only.
    pub suspended: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            slug: t.slug.to_string(),
            deploys_per_day: t.deploys_per_day,
            memory_mb_limit: t.memory_mb_limit,
            storage_gb_limit: t.storage_gb_limit,
            suspended: t.suspended,
            created_at: t.created_at,
        }
    }
}

/// Trims a display name and checks its length; `field` names it in the error.
pub fn display_name(raw: &str, field: &str) -> Result<String, crate::error::ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(crate::error::ApiError::bad_request(format!(
            "field `{field}` must be 1 to 100 characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(crate::error::ApiError::bad_request(format!(
            "field `{field}` must not contain control characters"
        )));
    }
    Ok(name.to_owned())
}
