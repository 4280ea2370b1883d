//! Build and runtime configuration as requests change it: an absent field stays, `null`
//! unsets, a value replaces.

use super::validate;
use crate::error::{ApiError, ApiResult};
use serde::{Deserialize, Deserializer};
use shipyard_core::{BuildConfig, PackageManager, ProjectType, RuntimeConfig, RuntimeType};
use utoipa::ToSchema;

/// Tells an absent field (outer None) from an explicit null (Some(None)).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Changes to the build configuration.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildConfigPatch {
    /// Installs dependencies.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub install_command: Option<Option<String>>,
    /// Builds.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub build_command: Option<Option<String>>,
    /// Directory served (static/react).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub output_directory: Option<Option<String>>,
    /// Directory of the app in the repository.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub root_directory: Option<Option<String>>,
    /// Node.js version or range.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub node_version: Option<Option<String>>,
    /// Python version.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub python_version: Option<Option<String>>,
    /// npm, pnpm, yarn, bun, pip, uv or poetry.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<PackageManager>)]
    pub package_manager: Option<Option<PackageManager>>,
}

fn set(
    target: &mut Option<String>,
    change: Option<Option<String>>,
    check: impl FnOnce(String) -> ApiResult<String>,
) -> ApiResult<()> {
    match change {
        None => {}
        Some(None) => *target = None,
        Some(Some(value)) => *target = Some(check(value)?),
    }
    Ok(())
}

impl BuildConfigPatch {
    /// Applies the change to `build`, validating every field it sets.
    pub fn apply(self, build: &mut BuildConfig, project_type: ProjectType) -> ApiResult<()> {
        set(&mut build.install_command, self.install_command, |v| {
            validate::command("installCommand", v)
        })?;
        set(&mut build.build_command, self.build_command, |v| {
            validate::command("buildCommand", v)
        })?;
        set(&mut build.output_directory, self.output_directory, |v| {
            validate::directory("outputDirectory", &v)
        })?;
        set(&mut build.node_version, self.node_version, |v| {
            validate::version("nodeVersion", v)
        })?;
        set(&mut build.python_version, self.python_version, |v| {
            validate::version("pythonVersion", v)
        })?;
        if let Some(root) = self.root_directory {
            build.root_directory = validate::directory("rootDirectory", root.as_deref().unwrap_or_default())?;
        }
        if let Some(pm) = self.package_manager {
            if let Some(pm) = pm {
                let node_project = project_type.runtime_type() != RuntimeType::Python;
                if pm.is_node() != node_project {
                    return Err(ApiError::unprocessable(format!(
                        "field `packageManager`: {} does not build {} projects",
                        pm.as_str(),
                        project_type.as_str()
                    )));
                }
            }
            build.package_manager = pm;
        }
        Ok(())
    }
}

/// Changes to the resource limits.
#[derive(Debug, Default, Deserialize, ToSchema)]
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
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeConfigPatch {
    /// Must match the project's type (static for static/react).
    pub runtime_type: Option<RuntimeType>,
    /// Starts the server.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub start_command: Option<Option<String>>,
    /// Port the server listens on (1024 to 65535; also given as `PORT`).
    #[serde(default, deserialize_with = "nullable")]
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
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    pub health_check_timeout_seconds: Option<Option<u32>>,
    /// Seconds a replaced release keeps serving in-flight requests (0 to 300; default 10).
    pub drain_seconds: Option<u32>,
}

impl RuntimeConfigPatch {
    /// Applies the change to `runtime`, validating every field it sets.
    pub fn apply(self, runtime: &mut RuntimeConfig, project_type: ProjectType) -> ApiResult<()> {
        if let Some(rt) = self.runtime_type
            && rt != project_type.runtime_type()
        {
            return Err(ApiError::unprocessable(format!(
                "field `runtimeType`: a {} project runs as `{}`, not `{}`",
                project_type.as_str(),
                project_type.runtime_type().as_str(),
                rt.as_str()
            )));
        }
        if project_type.runtime_type() == RuntimeType::Static && matches!(self.start_command, Some(Some(_))) {
            return Err(ApiError::unprocessable(format!(
                "field `startCommand`: {} projects are served by the platform and run no command",
                project_type.as_str()
            )));
        }
        set(&mut runtime.start_command, self.start_command, |v| {
            validate::command("startCommand", v)
        })?;
        match self.port {
            None => {}
            Some(None) => runtime.port = None,
            Some(Some(p)) => runtime.port = Some(validate::port(p)?),
        }
        if let Some(path) = self.health_check_path {
            runtime.health_check_path = validate::health_path(path)?;
        }
        if let Some(limits) = self.limits {
            if let Some(mb) = limits.memory_mb {
                runtime.limits.memory_mb = validate::within("limits.memoryMb", mb, 64, 65536)?;
            }
            if let Some(cpu) = limits.cpu_millis {
                runtime.limits.cpu_millis = validate::within("limits.cpuMillis", cpu, 50, 64000)?;
            }
            if let Some(mb) = limits.disk_mb {
                runtime.limits.disk_mb = validate::within("limits.diskMb", mb, 16, 102_400)?;
            }
        }
        if let Some(n) = self.instances {
            runtime.instances = validate::within("instances", n, 1, 10)?;
        }
        match self.health_check_timeout_seconds {
            None => {}
            Some(None) => runtime.health_check_timeout_seconds = None,
            Some(Some(s)) => {
                runtime.health_check_timeout_seconds = Some(validate::within("healthCheckTimeoutSeconds", s, 1, 600)?);
            }
        }
        if let Some(s) = self.drain_seconds {
            runtime.drain_seconds = validate::within("drainSeconds", s, 0, 300)?;
        }
        Ok(())
    }
}

/// `config` of a new project.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigRequest {
    /// Build settings; unset ones come from detection.
    pub build: Option<BuildConfigPatch>,
    /// Runtime settings; unset ones come from detection.
    pub runtime: Option<RuntimeConfigPatch>,
}
