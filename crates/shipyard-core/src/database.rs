//! Where a managed database is in its life, and how it is addressed.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `provisioning → running ⇄ stopped`, or `failed` (its `error` says why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseStatus {
    /// Its cluster is being made; a restart of the server carries on.
    Provisioning,
    /// Its server runs (or is being restarted after a crash) and is started with the platform.
    Running,
    /// Stopped by a user: no process, no open port, its data kept.
    Stopped,
    /// Provisioning failed, or it crashed too often to be restarted.
    Failed,
}

/// Where managed databases listen: the host's loopback, and the loopback of an attached
/// project's sandbox (the same URL works in both).
pub const DATABASE_HOST: &str = "127.0.0.1";

/// The tenant role's connection URL: `postgres://user:password@127.0.0.1:port/database`.
pub fn database_url(username: &str, password: &str, port: u16, database: &str) -> String {
    format!("postgres://{username}:{password}@{DATABASE_HOST}:{port}/{database}")
}

impl DatabaseStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::Provisioning, Self::Running, Self::Stopped, Self::Failed];

    /// The name as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "provisioning",
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored status.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips() {
        for status in DatabaseStatus::ALL {
            assert_eq!(DatabaseStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(DatabaseStatus::parse("deleted"), None);
    }
}
