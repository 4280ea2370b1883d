//! Accounts: users, sessions, API tokens, workspaces and members.

use crate::Result;
use crate::model::{ApiToken, Member, Membership, NewToken, NewUser, Page, Paged, Tenant, TenantPatch, User};
use crate::scope::{AdminScope, TenantScope};
use chrono::{DateTime, Utc};
use shipyard_core::{Email, Role, TenantId, TokenId, UserId};
use std::future::Future;

/// User accounts.
pub trait Users {
    /// How many users the install has (signup is open while this is 0).
    fn count_users(&mut self) -> impl Future<Output = Result<i64>> + Send;
    /// Makes a user; `Conflict(UserEmail)` when the email is taken.
    fn create_user(&mut self, new: &NewUser) -> impl Future<Output = Result<User>> + Send;
    /// A user by id.
    fn user_by_id(&mut self, id: &UserId) -> impl Future<Output = Result<Option<User>>> + Send;
    /// A user by email.
    fn user_by_email(&mut self, email: &Email) -> impl Future<Output = Result<Option<User>>> + Send;
    /// Every user, oldest first (platform admins only).
    fn list_users(&mut self, admin: &AdminScope, page: Page) -> impl Future<Output = Result<Paged<User>>> + Send;
}

/// Browser sessions, stored by the hash of their cookie value.
pub trait Sessions {
    /// Records a session.
    fn create_session(
        &mut self,
        user: &UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// The user a live session belongs to; expired sessions are ignored.
    fn session_user(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<User>>> + Send;
    /// Ends a session.
    fn delete_session(&mut self, token_hash: &str) -> impl Future<Output = Result<()>> + Send;
}

/// Personal access tokens, stored by hash.
pub trait ApiTokens {
    /// Records a token.
    fn create_token(&mut self, user: &UserId, new: &NewToken) -> impl Future<Output = Result<ApiToken>> + Send;
    /// A user's tokens, newest first.
    fn list_tokens(&mut self, user: &UserId, page: Page) -> impl Future<Output = Result<Paged<ApiToken>>> + Send;
    /// Revokes one of the user's tokens; false when the user has no such token.
    fn delete_token(&mut self, user: &UserId, id: &TokenId) -> impl Future<Output = Result<bool>> + Send;
    /// The user and token behind a presented token hash, if it is live.
    fn token_user(
        &mut self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(User, ApiToken)>>> + Send;
    /// Records use of a token from client address `ip` (at most once a minute from the same one).
    fn touch_token(
        &mut self,
        id: &TokenId,
        now: DateTime<Utc>,
        ip: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Workspaces, and the capabilities that open them.
pub trait Tenants {
    /// Makes a workspace owned by `owner`. A taken slug gets a short random suffix.
    fn create_tenant(&mut self, name: &str, owner: &UserId) -> impl Future<Output = Result<Tenant>> + Send;
    /// The capability to act in a workspace, if `user` is a member of it.
    fn tenant_scope(
        &mut self,
        user: &UserId,
        tenant: &TenantId,
    ) -> impl Future<Output = Result<Option<TenantScope>>> + Send;
    /// The capability of a platform admin, if `user` is one.
    fn admin_scope(&mut self, user: &UserId) -> impl Future<Output = Result<Option<AdminScope>>> + Send;
    /// A user's workspaces in the order they joined them.
    fn memberships(&mut self, user: &UserId) -> impl Future<Output = Result<Vec<Membership>>> + Send;
    /// A workspace of that name that `user` owns, if any.
    fn owned_tenant_named(&mut self, user: &UserId, name: &str) -> impl Future<Output = Result<Option<Tenant>>> + Send;
    /// Every workspace, oldest first.
    fn list_tenants(&mut self, admin: &AdminScope, page: Page) -> impl Future<Output = Result<Paged<Tenant>>> + Send;
    /// Changes quota or suspension; None when there is no such workspace.
    fn update_tenant(
        &mut self,
        admin: &AdminScope,
        tenant: &TenantId,
        patch: &TenantPatch,
    ) -> impl Future<Output = Result<Option<Tenant>>> + Send;
}

/// Members of one workspace; every method is confined to the scope's workspace.
pub trait Members {
    /// Members in the order they joined.
    fn list_members(&mut self, scope: &TenantScope, page: Page) -> impl Future<Output = Result<Paged<Member>>> + Send;
    /// One member.
    fn member(&mut self, scope: &TenantScope, user: &UserId) -> impl Future<Output = Result<Option<Member>>> + Send;
    /// Adds a user; `Conflict(Membership)` when already a member.
    fn add_member(
        &mut self,
        scope: &TenantScope,
        user: &UserId,
        role: Role,
    ) -> impl Future<Output = Result<Member>> + Send;
    /// Changes a member's role.
    fn set_member_role(
        &mut self,
        scope: &TenantScope,
        user: &UserId,
        role: Role,
    ) -> impl Future<Output = Result<Option<Member>>> + Send;
    /// Removes a member; false when not a member.
    fn remove_member(&mut self, scope: &TenantScope, user: &UserId) -> impl Future<Output = Result<bool>> + Send;
    /// How many owners the workspace has (the last one cannot leave or be demoted).
    fn count_owners(&mut self, scope: &TenantScope) -> impl Future<Output = Result<i64>> + Send;
}
