//! Secrets: names and versions; values only ever sealed.

use chrono::{DateTime, Utc};
use shipyard_core::{EnvVarName, EnvironmentId, ProjectId, SecretId, SecretScope, SecretString, TenantId};

/// A secret's metadata (never its value).
#[derive(Debug, Clone)]
pub struct Secret {
    /// Its id.
    pub id: SecretId,
    /// The workspace.
    pub tenant_id: TenantId,
    /// Environment-variable name.
    pub name: EnvVarName,
    /// Where it applies.
    pub scope: SecretScope,
    /// Its project (project and environment scopes).
    pub project_id: Option<ProjectId>,
    /// Its environment (environment scope).
    pub environment_id: Option<EnvironmentId>,
    /// Current version, from 1.
    pub version: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its value last changed.
    pub updated_at: DateTime<Utc>,
}

/// What is needed to make a secret.
#[derive(Debug, Clone)]
pub struct NewSecret {
    /// Environment-variable name.
    pub name: EnvVarName,
    /// Where it applies.
    pub scope: SecretScope,
    /// Its project.
    pub project_id: Option<ProjectId>,
    /// Its environment.
    pub environment_id: Option<EnvironmentId>,
    /// The first value, sealed.
    pub sealed: Vec<u8>,
}

/// List filters (exact match).
#[derive(Debug, Clone, Default)]
pub struct SecretFilter {
    /// Scope.
    pub scope: Option<SecretScope>,
    /// Project.
    pub project_id: Option<ProjectId>,
    /// Environment.
    pub environment_id: Option<EnvironmentId>,
    /// Only secrets of these projects (a project-limited token's; workspace secrets excluded).
    pub only_projects: Option<Vec<ProjectId>>,
}

/// One sealed value with what it is bound to (to open it, and to name it in a release).
#[derive(Debug, Clone)]
pub struct SealedSecretValue {
    /// The secret.
    pub secret_id: SecretId,
    /// Its name.
    pub name: EnvVarName,
    /// Its scope.
    pub scope: SecretScope,
    /// Its target: project or environment id, empty for the workspace.
    pub target: String,
    /// The version.
    pub version: i64,
    /// The sealed value.
    pub sealed: Vec<u8>,
}

/// A secret's value in clear, as resolved for one environment.
#[derive(Clone)]
pub struct ResolvedSecret {
    /// The secret.
    pub secret_id: SecretId,
    /// Variable name.
    pub name: EnvVarName,
    /// Version used.
    pub version: i64,
    /// Scope it came from.
    pub scope: SecretScope,
    /// The value, in clear only where it is exposed on purpose.
    pub value: SecretString,
}

impl std::fmt::Debug for ResolvedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ResolvedSecret({} v{} from {}: ****)",
            self.name,
            self.version,
            self.scope.as_str()
        )
    }
}
