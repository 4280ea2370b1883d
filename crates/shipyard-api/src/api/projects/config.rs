//! Build and runtime configuration as requests change it: an absent field stays, `null`
//! unsets, a value replaces.

use super::validate;
use crate::error::{ApiError, ApiResult};
pub use shipyard_api_types::config::{BuildConfigPatch, ConfigRequest, LimitsPatch, RuntimeConfigPatch};
use shipyard_core::{BuildConfig, ProjectType, RuntimeConfig, RuntimeType};

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

/// A change that applies to a configuration of a project of a given type.
pub trait ApplyPatch<T> {
    /// Applies the change to `target`, validating every field it sets.
    fn apply(self, target: &mut T, project_type: ProjectType) -> ApiResult<()>;
}

impl ApplyPatch<BuildConfig> for BuildConfigPatch {
    fn apply(self, build: &mut BuildConfig, project_type: ProjectType) -> ApiResult<()> {
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

impl ApplyPatch<RuntimeConfig> for RuntimeConfigPatch {
    fn apply(self, runtime: &mut RuntimeConfig, project_type: ProjectType) -> ApiResult<()> {
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
        for (field, given) in [
            ("startCommand", &self.start_command),
            ("preDeployCommand", &self.pre_deploy_command),
        ] {
            if project_type.runtime_type() == RuntimeType::Static && matches!(given, Some(Some(_))) {
                return Err(ApiError::unprocessable(format!(
                    "field `{field}`: {} projects are served by the platform and run no command",
                    project_type.as_str()
                )));
            }
        }
        set(&mut runtime.start_command, self.start_command, |v| {
            validate::command("startCommand", v)
        })?;
        set(&mut runtime.pre_deploy_command, self.pre_deploy_command, |v| {
            validate::command("preDeployCommand", v)
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
