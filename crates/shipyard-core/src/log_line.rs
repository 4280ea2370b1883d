//! A line of a build, runtime or access log as stored and shown, and the access-log entry such
//! a line holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which output a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogKind {
    /// The process's standard output.
    Stdout,
    /// Its standard error.
    Stderr,
    /// Shipyard's own words about the step.
    System,
}

impl LogKind {
    /// The name it is stored and shown under.
    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::Stdout => "stdout",
            LogKind::Stderr => "stderr",
            LogKind::System => "system",
        }
    }

    /// Reads a stored name; anything unknown is Shipyard's own.
    pub fn parse(text: &str) -> Self {
        match text {
            "stdout" => LogKind::Stdout,
            "stderr" => LogKind::Stderr,
            _ => LogKind::System,
        }
    }
}

/// One stored line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogLine {
    /// Position in its stream, from 1.
    pub seq: i64,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// stdout, stderr or system.
    pub stream: LogKind,
    /// The text (redacted).
    pub line: String,
}

/// One logged request, as the edge writes it into its environment's access log and the API
/// shows it (the stored line is this type's JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    /// The environment whose log keeps it (`env_…`): where it is filed, not part of the line.
    #[serde(skip)]
    pub environment: String,
    /// When the request came.
    pub at: DateTime<Utc>,
    /// Its method (at most 32 bytes; a longer one is cut and ends in `…`).
    pub method: String,
    /// Its path (the query is not kept: it often carries tokens); at most 2 KiB, a longer one
    /// is cut and ends in `…`.
    pub path: String,
    /// The status answered.
    pub status: u16,
    /// From the request to the end of the response body.
    pub duration_ms: u64,
    /// Response body bytes sent.
    pub bytes: u64,
    /// The client's address (behind `--trusted-proxy`, the forwarded one).
    pub client_ip: Option<String>,
    /// Its `User-Agent`; at most 512 bytes, a longer one is cut and ends in `…`.
    pub user_agent: Option<String>,
    /// The host it asked for.
    pub host: String,
}
