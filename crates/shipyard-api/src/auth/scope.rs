//! Opening a workspace or the admin area for an authenticated caller.

use super::Auth;
use crate::error::ApiError;
use shipyard_core::{Role, TenantId};
use shipyard_store::{AdminScope, TenantScope, Tenants};

impl Auth {
    /// The caller's scope in workspace `raw_id`; 404 when it does not exist or the caller is
    /// not a member, so other workspaces' existence is never revealed; then 403 when the
    /// caller's token does not cover the request (after the 404: a foreign workspace's objects
    /// never answer 403).
    pub async fn tenant(&self, tx: &mut impl Tenants, raw_id: &str) -> Result<TenantScope, ApiError> {
        let not_found = || ApiError::not_found(format!("workspace {raw_id} not found"));
        let id = TenantId::parse(raw_id).map_err(|_| not_found())?;
        let scope = tx.tenant_scope(&self.user.id, &id).await?.ok_or_else(not_found)?;
        if let Some(token) = &self.token {
            token.check()?;
        }
        Ok(scope)
    }

    /// The admin capability; 403 for tokens and for users who are not platform admins.
    pub async fn admin(&self, tx: &mut impl Tenants) -> Result<AdminScope, ApiError> {
        self.require_session("admin routes")?;
        tx.admin_scope(&self.user.id)
            .await?
            .ok_or_else(|| ApiError::forbidden("admin routes are for platform admins only"))
    }
}

/// 403 unless the caller's role is at least `min` and the workspace accepts writes.
pub fn require_write(scope: &TenantScope, min: Role) -> Result<(), ApiError> {
    if !scope.role().at_least(min) {
        return Err(ApiError::forbidden(format!(
            "your role in this workspace is {}; this needs {} or above",
            scope.role(),
            min
        )));
    }
    if scope.suspended() {
        return Err(ApiError::forbidden(
            "this workspace is suspended: it can be read but not changed",
        ));
    }
    Ok(())
}
