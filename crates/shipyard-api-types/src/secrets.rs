//! Secrets: names, scopes and versions, never a value.

use crate::Secret;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::SecretScope;
use utoipa::ToSchema;

/// A secret as the API shows it: never its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretView {
    /// `sec_…`
    pub id: String,
    /// Environment-variable name.
    pub name: String,
    /// workspace, project or environment.
    pub scope: SecretScope,
    /// Its project (project and environment scopes).
    pub project_id: Option<String>,
    /// Its environment (environment scope).
    pub environment_id: Option<String>,
    /// Current version; every change adds one.
    pub version: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its value last changed.
    pub updated_at: DateTime<Utc>,
}

/// `POST /tenants/<t>/secrets`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSecretRequest {
    /// Environment-variable name (not PORT, HOME, PATH, CI or SHIPYARD_*).
    #[schema(pattern = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")]
    pub name: String,
    /// The value; write-only.
    #[schema(value_type = String, min_length = 1, max_length = 65536, pattern = r"^[^\u0000]+$")]
    pub value: Secret,
    /// workspace, project or environment.
    pub scope: SecretScope,
    /// Required for project scope.
    pub project_id: Option<String>,
    /// Required for environment scope.
    pub environment_id: Option<String>,
}

/// `PATCH /tenants/<t>/secrets/<id>`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateSecretRequest {
    /// The new value; it becomes the next version.
    #[schema(value_type = String, min_length = 1, max_length = 65536, pattern = r"^[^\u0000]+$")]
    pub value: Secret,
}
