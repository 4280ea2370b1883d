//! What a build runs: the install and build commands in order, checked against the host's
//! toolchains first.

use super::toolchain::Toolchain;
use shipyard_core::{BuildConfig, PackageManager, RuntimeType};
use thiserror::Error;

/// A build that cannot start.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PlanError {
    /// The requested Node.js cannot be provided.
    #[error("Node.js {wanted} is required, but this host provides {available} (set nodeVersion to a version it has)")]
    NodeVersion {
        /// What the project asked for.
        wanted: String,
        /// What the host has.
        available: String,
    },
}

/// One command of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `install` or `build`.
    pub name: &'static str,
    /// The shell command.
    pub command: String,
}

/// The steps of one build.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Whether a Python venv is made first (pip installs into it, inside the artifact).
    pub python_venv: bool,
    /// Whether it runs a server (the release then carries the package manager it used).
    runs_server: bool,
}

impl Plan {
    /// The plan for a build configuration.
    pub fn new(build: &BuildConfig, runtime: RuntimeType) -> Self {
        let mut steps = Vec::new();
        if let Some(install) = &build.install_command {
            steps.push(Step {
                name: "install",
                command: install.clone(),
            });
        }
        if let Some(command) = &build.build_command {
            steps.push(Step {
                name: "build",
                command: command.clone(),
            });
        }
        let python_venv =
            runtime == RuntimeType::Python && matches!(build.package_manager, None | Some(PackageManager::Pip));
        Self {
            steps,
            python_venv,
            runs_server: runtime != RuntimeType::Static,
        }
    }

    /// This plan with `chain`'s set-up first and, for a server whose node package manager
    /// the platform provides (kept under `tools`), a last step copying that tool into the
    /// release: a start command such as `pnpm run start` needs it at run time too.
    pub fn with_toolchain(mut self, chain: &Toolchain, manager: Option<PackageManager>, tools: &str) -> Self {
        if let Some(setup) = &chain.setup {
            self.steps.insert(
                0,
                Step {
                    name: "setup",
                    command: setup.clone(),
                },
            );
            if self.runs_server && manager.is_some_and(PackageManager::is_node) {
                let dir = shipyard_core::RELEASE_TOOLS_DIR;
                self.steps.push(Step {
                    name: "tools",
                    command: format!("rm -rf {dir} && mkdir -p {dir} && cp -a {tools}/. {dir}/"),
                });
            }
        }
        self
    }
}

/// Checks a `nodeVersion` (`20`, `>=18`, `^20.1`, `20.x`, `~20`) against the host's version
/// (`v20.20.2`): the major must match, or be at least the bound for `>=`.
pub fn check_node_version(wanted: &str, host: &str) -> Result<(), PlanError> {
    let host_major: u64 = host
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let at_least = wanted.trim_start().starts_with(">=") || wanted.trim_start().starts_with('>');
    let wanted_major: Option<u64> = wanted
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| !part.is_empty())
        .and_then(|part| part.parse().ok());
    let ok = match wanted_major {
        None => true,
        Some(major) if at_least => host_major >= major,
        Some(major) => host_major == major,
    };
    if ok {
        Ok(())
    } else {
        Err(PlanError::NodeVersion {
            wanted: wanted.to_owned(),
            available: host.trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_release_carries_the_package_manager_it_was_built_with() {
        let build = BuildConfig {
            install_command: Some("pnpm install --frozen-lockfile".into()),
            ..BuildConfig::default()
        };
        let chain = crate::build::toolchain(Some(PackageManager::Pnpm), Some("9"), "/cache/tools", "/app");
        let server =
            Plan::new(&build, RuntimeType::Node).with_toolchain(&chain, Some(PackageManager::Pnpm), "/cache/tools");
        let names: Vec<&str> = server.steps.iter().map(|s| s.name).collect();
        assert_eq!(names, ["setup", "install", "tools"]);
        assert!(
            server.steps[2]
                .command
                .contains("cp -a /cache/tools/. .shipyard/tools/")
        );
        // A static site serves files: nothing runs pnpm after the build.
        let site =
            Plan::new(&build, RuntimeType::Static).with_toolchain(&chain, Some(PackageManager::Pnpm), "/cache/tools");
        assert_eq!(
            site.steps.iter().map(|s| s.name).collect::<Vec<_>>(),
            ["setup", "install"]
        );
        // npm comes with node: nothing to set up or carry.
        let npm = crate::build::toolchain(Some(PackageManager::Npm), None, "/cache/tools", "/app");
        let plain =
            Plan::new(&build, RuntimeType::Node).with_toolchain(&npm, Some(PackageManager::Npm), "/cache/tools");
        assert_eq!(plain.steps.iter().map(|s| s.name).collect::<Vec<_>>(), ["install"]);
    }

    #[test]
    fn node_versions_match_by_major() {
        for ok in ["20", "20.x", "^20.1.0", "~20", ">=18", ">=20 <22", "*"] {
            assert_eq!(check_node_version(ok, "v20.20.2"), Ok(()), "{ok}");
        }
        for bad in ["18", "^22", ">=21", "16.x"] {
            let err = check_node_version(bad, "v20.20.2").expect_err(bad);
            assert!(err.to_string().contains("v20.20.2"), "{err}");
        }
    }

    #[test]
    fn plan_orders_install_before_build() {
        let build = BuildConfig {
            install_command: Some("npm ci".into()),
            build_command: Some("npm run build".into()),
            ..BuildConfig::default()
        };
        let plan = Plan::new(&build, RuntimeType::Static);
        assert_eq!(
            plan.steps.iter().map(|s| s.name).collect::<Vec<_>>(),
            ["install", "build"]
        );
        assert!(!plan.python_venv);
        assert!(Plan::new(&BuildConfig::default(), RuntimeType::Python).python_venv);
    }
}
