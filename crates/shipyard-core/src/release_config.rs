//! What a release was made with, kept with it (its "config snapshot"): the build and runtime
//! config, the secret versions pinned to it, and for a rollback why it was made. Stored as
//! JSON; rows of older versions, which lack newer fields, still read (every newer field has a
//! default).

use crate::{BuildConfig, RuntimeConfig};
use serde::{Deserialize, Serialize};

/// A release's config snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseConfig {
    /// How it was built.
    pub build: BuildConfig,
    /// How it runs.
    pub runtime: RuntimeConfig,
    /// The secret versions it runs with.
    #[serde(default)]
    pub secret_versions: Vec<PinnedSecret>,
    /// The databases attached to its environment when it was made, and the variable each
    /// filled; its instances get those still attached.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<PinnedAttachment>,
    /// For a rollback: the databases its target was made with that were no longer attached,
    /// so it runs without them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_attachments: Vec<PinnedAttachment>,
    /// Why it was made, when it is a rollback that said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_reason: Option<String>,
}

/// One secret version a release runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinnedSecret {
    /// `sec_…`
    pub secret_id: String,
    /// Its name.
    pub name: String,
    /// The version pinned.
    pub version: i64,
}

/// A database a release was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PinnedAttachment {
    /// `db_…`
    pub database_id: String,
    /// The variable that held its URL.
    pub env_var: String,
}

impl ReleaseConfig {
    /// Reads a stored snapshot.
    pub fn parse(stored: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(stored)
    }

    /// The snapshot as stored.
    pub fn to_stored(&self) -> String {
        // A struct of strings, numbers and enums always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_of_an_older_version_reads_and_a_new_one_round_trips() {
        // As the first versions wrote it: no secretVersions, no drainSeconds, no diskMb.
        let old = r#"{"build":{"installCommand":null,"buildCommand":"npm run build","outputDirectory":"dist",
            "rootDirectory":"","nodeVersion":null,"pythonVersion":null,"packageManager":"npm"},
            "runtime":{"runtimeType":"static","startCommand":null,"port":null,"healthCheckPath":"/",
            "limits":{"memoryMb":512,"cpuMillis":1000},"instances":1}}"#;
        let config = ReleaseConfig::parse(old).expect("an old snapshot reads");
        assert_eq!(config.build.output_directory.as_deref(), Some("dist"));
        assert_eq!(
            (config.runtime.drain_seconds, config.runtime.limits.disk_mb),
            (10, 1024)
        );
        assert!(config.secret_versions.is_empty() && config.rollback_reason.is_none());

        let mut rollback = config.clone();
        rollback.secret_versions.push(PinnedSecret {
            secret_id: "sec_1".into(),
            name: "API_KEY".into(),
            version: 2,
        });
        rollback.rollback_reason = Some("bad deploy".into());
        let stored = rollback.to_stored();
        assert!(
            stored.contains(r#""secretVersions":[{"secretId":"sec_1","name":"API_KEY","version":2}]"#),
            "{stored}"
        );
        assert!(stored.contains(r#""rollbackReason":"bad deploy""#), "{stored}");
        assert_eq!(ReleaseConfig::parse(&stored).expect("reads back"), rollback);
        assert!(!config.to_stored().contains("rollbackReason"));
    }
}
