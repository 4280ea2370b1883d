//! What platform admins send: workspace limits and new users.

use crate::Secret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PATCH /admin/tenants/<t>`
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTenantRequest {
    /// Deploys allowed per UTC day, 0 to 100000.
    #[schema(minimum = 0, maximum = 100000)]
    pub deploys_per_day: Option<i64>,
    /// MiB the instances of its active releases may take together, 0 to 16777216.
    #[schema(minimum = 0, maximum = 16777216)]
    pub memory_mb_limit: Option<i64>,
    /// GiB its releases, build disks and instances' HOMEs may take together, 1 to 1048576;
    /// below what it holds now is 409.
    #[schema(minimum = 1, maximum = 1048576)]
    pub storage_gb_limit: Option<i64>,
    /// Managed databases it may hold, 0 to 1000 (below what it holds now stops new ones only).
    #[schema(minimum = 0, maximum = 1000)]
    pub max_databases: Option<i64>,
    /// Suspend (read-only, apps keep serving) or reinstate.
    pub suspended: Option<bool>,
}

/// `POST /admin/users`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Login email.
    #[schema(
        max_length = 254,
        pattern = r"^[!-?A-~]+@[!-,/-?A-~][!-?A-~]*\.[!-?A-~]*[!-,/-?A-~]$"
    )]
    pub email: String,
    /// Display name (default: the part of the email before `@`).
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// At least 8 characters.
    #[schema(value_type = String, min_length = 8, max_length = 256)]
    pub password: Secret,
}
