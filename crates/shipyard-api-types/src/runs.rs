//! One-off commands (`shipyard run`): a command run once in a sandbox of an environment's
//! active release.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST …/environments/<e>/runs`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRunRequest {
    /// The command, run with `sh -c` in the release's directory.
    #[schema(min_length = 1, max_length = 4096)]
    pub command: String,
}

/// A one-off command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunView {
    /// `run_…`
    pub id: String,
    /// The environment.
    pub environment_id: String,
    /// The release whose sandbox it runs in (the active one when it started).
    pub release_id: String,
    /// The command.
    pub command: String,
    /// `running`, `exited` (see `exitCode`), `killed` or `failed` (see `error`).
    pub status: String,
    /// Its exit code, once it exited.
    pub exit_code: Option<i32>,
    /// Why it was killed or could not run.
    pub error: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}
