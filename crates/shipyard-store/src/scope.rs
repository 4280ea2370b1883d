//! Capabilities. A `TenantScope` proves its holder is a member of one workspace (with a role);
//! an `AdminScope` proves a platform admin. Only the store makes them, after checking the
//! database, so code that was not granted access cannot even name another workspace's data.

use shipyard_core::{Role, Slug, TenantId, UserId};

/// Access to one workspace as one of its members.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant_id: TenantId,
    tenant_slug: Slug,
    user_id: UserId,
    role: Role,
    suspended: bool,
}

impl TenantScope {
    pub(crate) fn new(tenant_id: TenantId, tenant_slug: Slug, user_id: UserId, role: Role, suspended: bool) -> Self {
        Self {
            tenant_id,
            tenant_slug,
            user_id,
            role,
            suspended,
        }
    }

    /// The workspace's slug (the last label of its apps' hosts).
    pub fn tenant_slug(&self) -> &Slug {
        &self.tenant_slug
    }

    /// The workspace.
    pub fn tenant_id(&self) -> &TenantId {
        &self.tenant_id
    }

    /// The member acting.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// Their role in this workspace.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether the workspace is suspended (read-only).
    pub fn suspended(&self) -> bool {
        self.suspended
    }
}

/// Proof that the caller is a platform admin.
#[derive(Debug, Clone)]
pub struct AdminScope {
    user_id: UserId,
}

impl AdminScope {
    pub(crate) fn new(user_id: UserId) -> Self {
        Self { user_id }
    }

    /// The admin acting.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }
}
