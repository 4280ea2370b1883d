//! Changes to a project's build and runtime configuration; `null` unsets a field.

use crate::nullable;
use serde::{Deserialize, Serialize};
use shipyard_core::{PackageManager, RuntimeType};
use utoipa::ToSchema;

/// Changes to the build configuration.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildConfigPatch {
    /// Installs dependencies.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub install_command: Option<Option<String>>,
    /// Builds.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub build_command: Option<Option<String>>,
    /// Directory served (static/react).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub output_directory: Option<Option<String>>,
    /// Directory of the app in the repository.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub root_directory: Option<Option<String>>,
    /// Node.js version or range.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub node_version: Option<Option<String>>,
    /// Python version.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub python_version: Option<Option<String>>,
    /// npm, pnpm, yarn, bun, pip, uv or poetry.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<PackageManager>)]
    pub package_manager: Option<Option<PackageManager>>,
}

/// Changes to the resource limits.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitsPatch {
    /// Memory per instance in MiB (64 to 65536).
    pub memory_mb: Option<u32>,
    /// CPU per instance in thousandths of a core (50 to 64000).
    pub cpu_millis: Option<u32>,
    /// Disk of each instance's HOME in MiB (16 to 102400); writes past it get ENOSPC.
    pub disk_mb: Option<u32>,
}

/// Changes to the runtime configuration.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeConfigPatch {
    /// Must match the project's type (static for static/react).
    pub runtime_type: Option<RuntimeType>,
    /// Starts the server.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub start_command: Option<Option<String>>,
    /// Runs once per deploy before the new release's instances start (migrations); null
    /// removes it.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub pre_deploy_command: Option<Option<String>>,
    /// Port the server listens on (1024 to 65535; also given as `PORT`).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u16>)]
    pub port: Option<Option<u16>>,
    /// Path the health check requests.
    pub health_check_path: Option<String>,
    /// Per-instance limits.
    pub limits: Option<LimitsPatch>,
    /// Instances to run (1 to 10).
    pub instances: Option<u32>,
    /// Seconds a new release has to pass its health check (1 to 600; null: the server's
    /// `--health-timeout`, 60 s unless set).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<u32>)]
    pub health_check_timeout_seconds: Option<Option<u32>>,
    /// Seconds a replaced release keeps serving in-flight requests (0 to 300; default 10).
    pub drain_seconds: Option<u32>,
}

/// `config` of a new project.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigRequest {
    /// Build settings; unset ones come from detection.
    pub build: Option<BuildConfigPatch>,
    /// Runtime settings; unset ones come from detection.
    pub runtime: Option<RuntimeConfigPatch>,
}
