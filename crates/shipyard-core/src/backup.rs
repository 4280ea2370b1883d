//! Backups of managed databases and restores of them: where each is in its life, and why it
//! was made.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `pending → running → completed | failed` (its `error` says why): a backup or a restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for the backup worker.
    Pending,
    /// Being taken (a backup: dumped and proven) or applied (a restore).
    Running,
    /// Done; a backup is proven by a restore.
    Completed,
    /// Ended without the result; `error` says why.
    Failed,
}

/// Why a backup was taken, which decides how long it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum BackupKind {
    /// Asked for (`POST …/backups`): kept until deleted.
    Manual,
    /// The daily schedule's: the newest `--backup-retention` are kept.
    Daily,
    /// The state a `same` restore replaced, so that restore can be undone: kept until deleted.
    BeforeRestore,
}

/// Where a restore puts a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RestoreTarget {
    /// A new database; the source is untouched.
    New,
    /// The backup's own database, after a backup of what it holds now.
    Same,
}

macro_rules! stored_names {
    ($ty:ty, $($variant:ident => $name:literal),+) => {
        impl $ty {
            /// Every value.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The name as stored and shown.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// Parses a stored name.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|s| s.as_str() == text)
            }
        }
    };
}

stored_names!(JobStatus, Pending => "pending", Running => "running", Completed => "completed", Failed => "failed");
stored_names!(BackupKind, Manual => "manual", Daily => "daily", BeforeRestore => "beforeRestore");
stored_names!(RestoreTarget, New => "new", Same => "same");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip_and_match_the_wire() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(*status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.as_str()))
            );
        }
        for kind in BackupKind::ALL {
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::json!(kind.as_str())));
        }
        for target in RestoreTarget::ALL {
            assert_eq!(RestoreTarget::parse(target.as_str()), Some(*target));
        }
        assert_eq!(JobStatus::parse("done"), None);
    }
}
