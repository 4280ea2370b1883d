//! What serves an environment: its release, routes and instances.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The release serving an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveRelease {
    /// `rel_…`
    pub id: String,
    /// `v1`, `v2`…
    pub version: String,
    /// The commit it was built from.
    pub commit_sha: String,
    /// When it went live.
    pub activated_at: Option<DateTime<Utc>>,
}

/// A host the edge routes, and what answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteView {
    /// The live host.
    pub host: String,
    /// `artifact:rel_…` for a static site's files, `instance:<addr>` for a server's instance,
    /// `unavailable` for a 503 page.
    pub target: String,
}

/// A running instance (node and python releases; none for static sites, whose files the
/// edge serves itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Its id.
    pub id: String,
    /// Which of its release's instances it is, from 1.
    pub number: u32,
    /// The release it runs.
    pub release_id: String,
    /// `starting`, `healthy`, `unhealthy`, `draining`, `stopped` or `crashed`.
    pub status: String,
    /// The port it listens on itself (its `PORT`, inside its own namespace), where the driver
    /// has one; never the host's.
    pub port: Option<u16>,
    /// Its own process id, where the driver has one that means something to it (null for a
    /// sandboxed instance, which has a pid namespace of its own); never the host's.
    pub pid: Option<u32>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How often it was restarted.
    pub restarts: u32,
    /// How it last exited.
    pub last_exit_code: Option<i32>,
    /// The same in words ("exited with code 3", "was killed by signal 9 (SIGKILL)", "killed:
    /// out of memory at 256 MiB").
    pub last_exit_reason: Option<String>,
}

/// A custom domain of the environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeDomain {
    /// `dom_…`
    pub id: String,
    /// The hostname (ASCII).
    pub hostname: String,
    /// Its verification status: only a `verified` one is served.
    pub status: String,
    /// Whether its DNS records send it here (at the last look).
    pub points_here: bool,
}

/// What serves an environment now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeView {
    /// `stopped` (nothing live), `starting`, `running`, `degraded`, `crashed` or `paused`.
    pub status: String,
    /// The live URLs.
    pub urls: Vec<String>,
    /// The active release.
    pub active_release: Option<ActiveRelease>,
    /// Running instances (empty for a static site: the edge serves its files).
    pub instances: Vec<InstanceView>,
    /// The routes to it.
    pub routes: Vec<RouteView>,
    /// Custom domains.
    pub domains: Vec<RuntimeDomain>,
    /// The databases attached to the environment now: its next deployment gets their URLs,
    /// and the active release those it was made with that are still attached.
    pub attachments: Vec<RuntimeAttachment>,
    /// How the environment's access log keeps up.
    pub access_log: AccessLogView,
}

/// A database attached to an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeAttachment {
    /// `db_…`
    pub database_id: String,
    /// The variable that holds its URL.
    pub env_var: String,
    /// Whether the active release runs with it (false: attached after it was made).
    pub in_active_release: bool,
}

/// The access log's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccessLogView {
    /// Entries dropped because the edge's queue was full (since the server started; 0 normally).
    pub dropped: u64,
}
