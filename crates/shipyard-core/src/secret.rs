//! Secrets' names and scopes.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// Where a secret applies; a narrower scope wins over a wider one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretScope {
    /// Every project of the workspace.
    Workspace,
    /// Every environment of one project.
    Project,
    /// One environment.
    Environment,
}

impl SecretScope {
    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretScope::Workspace => "workspace",
            SecretScope::Project => "project",
            SecretScope::Environment => "environment",
        }
    }

    /// Parses a stored or queried scope.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "workspace" => Some(SecretScope::Workspace),
            "project" => Some(SecretScope::Project),
            "environment" => Some(SecretScope::Environment),
            _ => None,
        }
    }
}

/// An environment-variable name a user may set: `[A-Za-z_][A-Za-z0-9_]*`, at most 255
/// characters, and none the platform sets itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnvVarName(String);

/// Names the platform sets for every build and instance.
pub const RESERVED_NAMES: &[&str] = &["PORT", "HOME", "PATH", "CI"];

impl EnvVarName {
    /// Parses a name, refusing reserved ones.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let valid = !value.is_empty()
            && value.len() <= 255
            && value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(DomainError::InvalidEnvVarName(format!(
                "`{value}` is not an environment variable name (letters, digits and `_`, not starting with a digit)"
            )));
        }
        if RESERVED_NAMES.contains(&value) || value.starts_with("SHIPYARD_") {
            return Err(DomainError::InvalidEnvVarName(format!(
                "`{value}` is set by the platform (reserved: PORT, HOME, PATH, CI, SHIPYARD_*)"
            )));
        }
        Ok(Self(value.to_owned()))
    }

    /// Wraps a name read back from the store.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvVarName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_shell_rules_and_skip_reserved() {
        for ok in ["DATABASE_URL", "_private", "a1", "Api_Key"] {
            assert!(EnvVarName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1ABC",
            "MY-KEY",
            "A B",
            "PORT",
            "PATH",
            "CI",
            "SHIPYARD_TOKEN",
            &"A".repeat(256),
        ] {
            assert!(EnvVarName::parse(bad).is_err(), "{bad}");
        }
    }
}
