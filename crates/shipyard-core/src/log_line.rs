//! A line of a build, runtime or access log as stored and shown.

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
