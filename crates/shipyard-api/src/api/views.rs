//! Response shapes shared by several resources.

pub use shipyard_api_types::account::{MembershipView, TenantView, UserView};
use shipyard_store::{Membership, Tenant, User};

/// The API's view of a stored user.
pub fn user_view(u: User) -> UserView {
    UserView {
        id: u.id.to_string(),
        email: u.email.as_str().to_owned(),
        name: u.name,
        is_platform_admin: u.is_platform_admin,
        created_at: u.created_at,
    }
}

/// The API's view of a stored membership.
pub fn membership_view(m: Membership) -> MembershipView {
    MembershipView {
        tenant_id: m.tenant_id.to_string(),
        tenant_name: m.tenant_name,
        tenant_slug: m.tenant_slug.to_string(),
        role: m.role,
    }
}

/// The API's view of a stored tenant.
pub fn tenant_view(t: Tenant) -> TenantView {
    TenantView {
        id: t.id.to_string(),
        name: t.name,
        slug: t.slug.to_string(),
        deploys_per_day: t.deploys_per_day,
        memory_mb_limit: t.memory_mb_limit,
        storage_gb_limit: t.storage_gb_limit,
        max_databases: t.max_databases,
        suspended: t.suspended,
        created_at: t.created_at,
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
