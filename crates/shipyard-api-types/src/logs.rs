//! Pages of build and access logs.

use serde::{Deserialize, Serialize};
use shipyard_core::log_line::{AccessEntry, LogLine};
use utoipa::ToSchema;

/// A page of log lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// Lines in order.
    pub items: Vec<LogLine>,
    /// Seq of the last line returned (or `after` when none).
    pub last_seq: i64,
    /// Whether the deployment has ended and every line is in the store.
    pub done: bool,
    /// Set when `after` was below the oldest line kept (a runtime log keeps its newest
    /// 100,000 lines, at most 7 days): the page starts there, and lines before it are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated_before: Option<i64>,
}

/// One logged request, with its place in the environment's access log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessItem {
    /// Its position in the environment's access log (`?after=` takes it).
    pub seq: i64,
    /// The request.
    #[serde(flatten)]
    pub entry: AccessEntry,
}

/// A page of access-log entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessPage {
    /// Entries in order.
    pub items: Vec<AccessItem>,
    /// Seq of the last entry returned (or `after` when none).
    pub last_seq: i64,
    /// Set when `after` was below the oldest entry kept (newest 100,000, at most 7 days): the
    /// page starts there, and entries before it are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated_before: Option<i64>,
}
