//! Package managers the platform provides, at the repository's major version: pnpm, yarn
//! (classic and berry) and bun come from the npm registry, uv and poetry from PyPI, each
//! installed once into the project's cache. The host needs only node and python.

use shipyard_core::PackageManager;

/// What a build needs before its install step to have the right package manager.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Toolchain {
    /// Commands that install the tool (skipped when already present).
    pub setup: Option<String>,
    /// Directories to put first on PATH.
    pub path: Vec<String>,
    /// Environment the tool needs.
    pub env: Vec<(String, String)>,
    /// One sentence for the build log: which tool and version, and why.
    pub description: String,
}

fn npm_tool(tools: &str, package: &str, version: &str, bin_name: &str) -> (String, String) {
    let dir = format!("{tools}/{}-{version}", bin_name);
    let setup = format!(
        "test -x {dir}/node_modules/.bin/{bin_name} || npm install --no-audit --no-fund --loglevel=error --prefix {dir} {package}@{version}"
    );
    (setup, format!("{dir}/node_modules/.bin"))
}

fn pip_tool(tools: &str, package: &str) -> (String, String) {
    let dir = format!("{tools}/{package}");
    let setup =
        format!("test -x {dir}/bin/{package} || (python3 -m venv {dir} && {dir}/bin/pip install --quiet {package})");
    (setup, format!("{dir}/bin"))
}

/// The toolchain for `manager` at `version` (as detection found it), with tools kept under
/// `tools` and the app at `app`.
pub fn toolchain(manager: Option<PackageManager>, version: Option<&str>, tools: &str, app: &str) -> Toolchain {
    let major = |default: &str| -> String {
        version
            .filter(|v| !v.is_empty() && *v != "berry" && v.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .map_or_else(|| default.to_owned(), str::to_owned)
    };
    match manager {
        Some(PackageManager::Pnpm) => {
            let v = major("9");
            let (setup, path) = npm_tool(tools, "pnpm", &v, "pnpm");
            Toolchain {
                setup: Some(setup),
                path: vec![path],
                env: vec![],
                description: format!("pnpm {v} (from the repository's lockfile or packageManager; default 9)"),
            }
        }
        Some(PackageManager::Yarn) if version == Some("1") || version.is_some_and(|v| v.starts_with("1.")) => {
            let (setup, path) = npm_tool(tools, "yarn", &major("1"), "yarn");
            Toolchain {
                setup: Some(setup),
                path: vec![path],
                env: vec![],
                description: "yarn 1 (classic)".into(),
            }
        }
        Some(PackageManager::Yarn) => {
            let v = major("4");
            let (setup, path) = npm_tool(tools, "@yarnpkg/cli-dist", &v, "yarn");
            Toolchain {
                setup: Some(setup),
                path: vec![path],
                env: vec![
                    ("YARN_ENABLE_TELEMETRY".into(), "0".into()),
                    ("YARN_ENABLE_GLOBAL_CACHE".into(), "false".into()),
                ],
                description: format!("yarn {v} (berry, from npm's @yarnpkg/cli-dist)"),
            }
        }
        Some(PackageManager::Bun) => {
            let v = major("latest");
            let (setup, path) = npm_tool(tools, "bun", &v, "bun");
            Toolchain {
                setup: Some(setup),
                path: vec![path],
                env: vec![],
                description: format!("bun {v} (from the npm registry)"),
            }
        }
        Some(PackageManager::Uv) => {
            let (setup, path) = pip_tool(tools, "uv");
            Toolchain {
                setup: Some(setup),
                path: vec![path],
                env: vec![
                    ("UV_PYTHON_DOWNLOADS".into(), "never".into()),
                    ("UV_PYTHON".into(), "/usr/bin/python3".into()),
                    ("UV_PROJECT_ENVIRONMENT".into(), format!("{app}/.venv")),
                    ("UV_LINK_MODE".into(), "copy".into()),
                ],
                description: "uv (from PyPI), using the host's python3".into(),
            }
        }
        Some(PackageManager::Poetry) => {
            let (setup, path) = pip_tool(tools, "poetry");
            Toolchain {
                setup: Some(setup),
                path: vec![path],
                env: vec![("POETRY_VIRTUALENVS_IN_PROJECT".into(), "true".into())],
                description: "poetry (from PyPI), virtualenv inside the app".into(),
            }
        }
        Some(PackageManager::Npm) => Toolchain {
            description: "npm (bundled with the host's node)".into(),
            ..Toolchain::default()
        },
        Some(PackageManager::Pip) => Toolchain {
            description: "pip in a venv inside the app".into(),
            ..Toolchain::default()
        },
        None => Toolchain::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_repository() {
        let pnpm8 = toolchain(Some(PackageManager::Pnpm), Some("8"), "/t", "/srv/app");
        assert!(
            pnpm8.setup.as_deref().is_some_and(|s| s.contains("pnpm@8")),
            "{pnpm8:?}"
        );
        assert_eq!(pnpm8.path, ["/t/pnpm-8/node_modules/.bin"]);
        let pinned = toolchain(Some(PackageManager::Pnpm), Some("8.15.1"), "/t", "/srv/app");
        assert!(pinned.setup.as_deref().is_some_and(|s| s.contains("pnpm@8.15.1")));
        let berry = toolchain(Some(PackageManager::Yarn), Some("berry"), "/t", "/srv/app");
        assert!(
            berry
                .setup
                .as_deref()
                .is_some_and(|s| s.contains("@yarnpkg/cli-dist@4"))
        );
        let classic = toolchain(Some(PackageManager::Yarn), Some("1"), "/t", "/srv/app");
        assert!(classic.setup.as_deref().is_some_and(|s| s.contains("yarn@1")));
        let uv = toolchain(Some(PackageManager::Uv), None, "/t", "/srv/app");
        assert!(
            uv.env
                .contains(&("UV_PROJECT_ENVIRONMENT".into(), "/srv/app/.venv".into()))
        );
        assert_eq!(toolchain(Some(PackageManager::Npm), None, "/t", "/srv/app").setup, None);
    }
}
