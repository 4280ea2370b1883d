//! Who the caller is: users, workspaces they belong to, sign-up and log-in, API tokens.

use crate::Secret;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
pub use shipyard_core::TokenScope;
use utoipa::ToSchema;

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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

/// One of the caller's workspaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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

/// A workspace as platform admins see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
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
    /// Managed databases it may hold.
    pub max_databases: i64,
    /// Suspended workspaces are read-only.
    pub suspended: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// How a request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// The browser console's cookie.
    Session,
    /// A personal access token.
    Token,
}

/// Who the caller is and which workspaces they belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeResponse {
    /// The caller.
    pub user: UserView,
    /// Workspaces in the order the user joined them.
    pub memberships: Vec<MembershipView>,
    /// How this request authenticated.
    pub auth_method: AuthMethod,
    /// The token this request came with (null for a session).
    pub token: Option<MeToken>,
}

/// The token a request came with, and what it may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeToken {
    /// `tok_…`
    pub id: String,
    /// Its label.
    pub name: String,
    /// What it may do.
    pub scopes: Vec<TokenScope>,
    /// The projects it is limited to (null: every project).
    pub project_ids: Option<Vec<String>>,
}

/// `POST /auth/signup`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignupRequest {
    /// Login email.
    #[schema(
        example = "ada@example.com",
        max_length = 254,
        pattern = r"^[!-?A-~]+@[!-,/-?A-~][!-?A-~]*\.[!-?A-~]*[!-,/-?A-~]$"
    )]
    pub email: String,
    /// At least 8 characters.
    #[schema(value_type = String, min_length = 8, max_length = 256)]
    pub password: Secret,
    /// Display name (default: the part of the email before `@`).
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// Name of the workspace made for the user (default: the user's name).
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub workspace_name: Option<String>,
}

/// `POST /auth/login`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    pub email: String,
    /// Password.
    #[schema(value_type = String)]
    pub password: Secret,
}

/// A token as listed: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// `tok_…`
    pub id: String,
    /// Your label for it.
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    #[schema(example = "shpat_3f9a0c1b")]
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working (null: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use, to the minute (null: never used).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The client address of its last use (null: never used).
    pub last_used_ip: Option<String>,
    /// What it may do.
    pub scopes: Vec<TokenScope>,
    /// The projects it is limited to (null: every project you can reach).
    pub project_ids: Option<Vec<String>>,
}

/// `POST /account/api-tokens`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// A label, e.g. `ci`.
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Lifetime in days, 1 to 3650 (default: no expiry).
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
    /// What it may do: `read` (every GET but credentials and wholesale data), `deploy` (read,
    /// and trigger, cancel, retry, roll back), `write` (everything your role allows; the
    /// default). Each includes the ones before it.
    #[schema(min_items = 1)]
    pub scopes: Option<Vec<TokenScope>>,
    /// Limit it to these projects (`prj_…`, 1 to 100, of your workspaces): other projects are
    /// 404, workspace lists are filtered and workspace-level writes are 403.
    #[schema(min_items = 1, max_items = 100)]
    pub project_ids: Option<Vec<String>>,
}

/// The answer to creating a token: the only time `token` is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    /// `tok_…`
    pub id: String,
    /// Your label.
    pub name: String,
    /// The bearer token: `Authorization: Bearer shpat_…`. Store it now; it is never shown again.
    pub token: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// What it may do.
    pub scopes: Vec<TokenScope>,
    /// The projects it is limited to (null: every project).
    pub project_ids: Option<Vec<String>>,
}
