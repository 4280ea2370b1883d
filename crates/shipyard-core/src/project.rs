//! A project's kinds and configuration: what it is, how it builds and how it runs.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What kind of app a project is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProjectType {
    /// Files served as they are, or the output of a client-side build (Vue, Svelte, Astro…).
    Static,
    /// A client-side React build (Vite, Create React App…), served as a SPA.
    React,
    /// A Node.js server.
    Node,
    /// A Python server.
    Python,
}

impl ProjectType {
    /// The runtime this type always uses.
    pub fn runtime_type(self) -> RuntimeType {
        match self {
            ProjectType::Static | ProjectType::React => RuntimeType::Static,
            ProjectType::Node => RuntimeType::Node,
            ProjectType::Python => RuntimeType::Python,
        }
    }

    /// Whether apps of this type run a server process.
    pub fn runs_server(self) -> bool {
        self.runtime_type() != RuntimeType::Static
    }

    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectType::Static => "static",
            ProjectType::React => "react",
            ProjectType::Node => "node",
            ProjectType::Python => "python",
        }
    }
}

/// How a release runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeType {
    /// Files served by the platform itself.
    Static,
    /// A node process.
    Node,
    /// A python process.
    Python,
}

impl RuntimeType {
    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeType::Static => "static",
            RuntimeType::Node => "node",
            RuntimeType::Python => "python",
        }
    }
}

/// Lifecycle of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProjectStatus {
    /// Deploys and serves.
    Active,
    /// Instances stopped, routes answer 503.
    Paused,
    /// Kept for the record; no deploys.
    Archived,
}

impl ProjectStatus {
    /// The name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "active",
            ProjectStatus::Paused => "paused",
            ProjectStatus::Archived => "archived",
        }
    }

    /// Parses a stored or queried status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(ProjectStatus::Active),
            "paused" => Some(ProjectStatus::Paused),
            "archived" => Some(ProjectStatus::Archived),
            _ => None,
        }
    }
}

/// The tool that installs dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    /// npm
    Npm,
    /// pnpm
    Pnpm,
    /// yarn (classic or berry)
    Yarn,
    /// bun
    Bun,
    /// pip
    Pip,
    /// uv
    Uv,
    /// poetry
    Poetry,
}

impl PackageManager {
    /// The command's name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageManager::Npm => "npm",
            PackageManager::Pnpm => "pnpm",
            PackageManager::Yarn => "yarn",
            PackageManager::Bun => "bun",
            PackageManager::Pip => "pip",
            PackageManager::Uv => "uv",
            PackageManager::Poetry => "poetry",
        }
    }

    /// Whether it installs JavaScript packages (as opposed to Python ones).
    pub fn is_node(self) -> bool {
        matches!(
            self,
            PackageManager::Npm | PackageManager::Pnpm | PackageManager::Yarn | PackageManager::Bun
        )
    }
}

/// How a project builds. `None` fields are not set (detection or defaults apply).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuildConfig {
    /// Installs dependencies, e.g. `npm ci`.
    pub install_command: Option<String>,
    /// Builds, e.g. `npm run build`.
    pub build_command: Option<String>,
    /// Directory served (static/react), relative to the root directory.
    pub output_directory: Option<String>,
    /// Directory of the app inside the repository (monorepos); empty for the root.
    pub root_directory: String,
    /// Node.js version or range.
    pub node_version: Option<String>,
    /// Python version.
    pub python_version: Option<String>,
    /// Package manager.
    pub package_manager: Option<PackageManager>,
}

/// Where, inside a server release's app directory, the build leaves a copy of the package
/// manager it installed (pnpm, yarn, bun), so a start command that runs it works at run time.
pub const RELEASE_TOOLS_DIR: &str = ".shipyard/tools";

/// Resource limits of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Memory in MiB.
    pub memory_mb: u32,
    /// CPU in thousandths of a core.
    pub cpu_millis: u32,
    /// Disk of its HOME in MiB, made fresh at each start (its `/tmp` counts against its memory).
    #[serde(default = "default_disk_mb")]
    pub disk_mb: u32,
}

/// A GiB of HOME: room for an app's temporary files and caches.
fn default_disk_mb() -> u32 {
    1024
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mb: 512,
            cpu_millis: 1000,
            disk_mb: default_disk_mb(),
        }
    }
}

/// How a project runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeConfig {
    /// Static, node or python.
    pub runtime_type: RuntimeType,
    /// Starts the server (node/python).
    pub start_command: Option<String>,
    /// Runs once per deploy in the new release's sandbox before its instances start (for
    /// example migrations); a failure fails the deployment. Never on a rollback.
    #[serde(default)]
    pub pre_deploy_command: Option<String>,
    /// Port the server listens on (also given to it as `PORT`).
    pub port: Option<u16>,
    /// Path that must answer 2xx/3xx before a release takes traffic.
    pub health_check_path: String,
    /// Per-instance limits.
    pub limits: Limits,
    /// How many instances run.
    pub instances: u32,
    /// Seconds a new release has to pass its health check (null: the server's
    /// `--health-timeout`).
    #[serde(default)]
    pub health_check_timeout_seconds: Option<u32>,
    /// Seconds a replaced release's instances keep serving in-flight requests before they stop.
    #[serde(default = "default_drain_seconds")]
    pub drain_seconds: u32,
}

/// Ten seconds of draining: long enough for ordinary requests to finish.
fn default_drain_seconds() -> u32 {
    10
}

impl RuntimeConfig {
    /// The defaults for a runtime type.
    pub fn defaults(runtime_type: RuntimeType) -> Self {
        Self {
            runtime_type,
            start_command: None,
            pre_deploy_command: None,
            port: None,
            health_check_path: "/".to_owned(),
            limits: Limits::default(),
            instances: 1,
            health_check_timeout_seconds: None,
            drain_seconds: default_drain_seconds(),
        }
    }
}
