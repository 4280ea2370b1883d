//! A workspace's members.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::Role;
use utoipa::ToSchema;

/// A member of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    /// `usr_…`
    pub user_id: String,
    /// Their email.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role here.
    #[schema(example = "member")]
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// `POST /tenants/<t>/members`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddMemberRequest {
    /// Email of an existing user.
    #[schema(
        max_length = 254,
        pattern = r"^[!-?A-~]+@[!-,/-?A-~][!-?A-~]*\.[!-?A-~]*[!-,/-?A-~]$"
    )]
    pub email: String,
    /// `owner`, `admin`, `member` or `viewer`.
    #[schema(example = "member")]
    pub role: Role,
}

/// `PATCH /tenants/<t>/members/<userId>`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// The new role.
    #[schema(example = "viewer")]
    pub role: Role,
}
