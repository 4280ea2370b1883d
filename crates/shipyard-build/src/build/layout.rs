//! Where a build's directories appear inside the sandbox and what its environment is. The app
//! is always at `/srv/app`, so paths baked in at build time (a Python venv) hold at run time.

use super::step::StepContext;
use shipyard_core::{PackageManager, SecretString};
use shipyard_sandbox::{Bind, LimitGroup, Sandbox, SandboxError, SandboxedCommand, Spec, inherited_host_settings};
use std::path::{Path, PathBuf};

/// Where the app's directory appears inside the sandbox.
pub const APP_DIR: &str = "/srv/app";
/// Where the build's home directory appears inside the sandbox.
pub const HOME_DIR: &str = "/home/build";
/// Where the project's package caches appear inside the sandbox.
pub const CACHE_DIR: &str = "/home/build/.shipyard-cache";

/// A project's build disk (`--build-disk`): its image, on its workspace's disk and kept between
/// builds since it holds the cache, and where it is mounted below `project_mounts`, holding
/// `builds/<attempt>/` (the workspaces) and `cache/`.
pub fn build_disk(
    workspaces: &shipyard_sandbox::Workspaces,
    project_mounts: &Path,
    tenant: &str,
    project: &str,
) -> (PathBuf, PathBuf) {
    (
        workspaces.build_disk_image(tenant, project),
        project_mounts.join(project),
    )
}

/// Where the app root, the home and the cache appear to a build in workspace `ws`.
pub fn paths(sandbox: &Sandbox, ws: &Path, cache: Option<&Path>) -> (PathBuf, PathBuf, Option<PathBuf>) {
    if sandbox.is_confined() {
        (
            PathBuf::from(APP_DIR),
            PathBuf::from(HOME_DIR),
            cache.map(|_| PathBuf::from(CACHE_DIR)),
        )
    } else {
        (ws.join("src"), ws.join("home"), cache.map(Path::to_owned))
    }
}

/// The command that runs `script` in the workspace `ws` (holding `src/` and `home/`), in
/// `workdir` (relative to the app root), with exactly the step's environment, `path` first on
/// PATH, and `cache` (the project's package caches) mounted.
pub fn step_command(
    sandbox: &Sandbox,
    ctx: &StepContext,
    script: &str,
    group: Option<&LimitGroup>,
) -> Result<SandboxedCommand, SandboxError> {
    let ws = ctx.ws.as_path();
    let (app, home_in, cache_in) = paths(sandbox, ws, ctx.cache.as_deref());
    let chdir = if ctx.workdir.is_empty() {
        app.clone()
    } else {
        app.join(&ctx.workdir)
    };
    let mut binds = vec![
        Bind {
            host: ws.join("src"),
            inside: app.clone(),
            writable: true,
        },
        Bind {
            host: ws.join("home"),
            inside: home_in.clone(),
            writable: true,
        },
    ];
    if let (Some(cache), Some(cache_in)) = (&ctx.cache, &cache_in) {
        binds.push(Bind {
            host: cache.clone(),
            inside: cache_in.clone(),
            writable: true,
        });
    }
    let spec = Spec {
        binds,
        env: environment(ctx, &app, &home_in, cache_in.as_deref()),
        chdir,
        program: vec!["sh".into(), "-c".into(), script.into()],
    };
    sandbox.command(&spec, group)
}

/// Exactly the environment a build step gets: paths, caches, home, the host's trust anchors
/// and proxies, the step's own variables (secrets among them), and `CI`.
fn environment(ctx: &StepContext, app: &Path, home_in: &Path, cache_in: Option<&Path>) -> Vec<(String, SecretString)> {
    let mut env: Vec<(String, SecretString)> = Vec::new();
    let mut set = |key: &str, value: String| env.push((key.to_owned(), SecretString::from(value)));
    let mut path: Vec<String> = ctx.path.clone();
    path.push(app.join(".venv/bin").display().to_string());
    path.push("/usr/local/bin:/usr/bin:/bin".to_owned());
    set("PATH", path.join(":"));
    if let Some(cache_in) = cache_in {
        let c = cache_in.display();
        if ctx.manager == Some(PackageManager::Pnpm) {
            set("npm_config_store_dir", format!("{c}/pnpm-store"));
        }
        for (key, sub) in [
            ("npm_config_cache", "npm"),
            ("YARN_CACHE_FOLDER", "yarn"),
            ("BUN_INSTALL_CACHE_DIR", "bun"),
            ("PIP_CACHE_DIR", "pip"),
            ("UV_CACHE_DIR", "uv"),
            ("POETRY_CACHE_DIR", "poetry"),
        ] {
            set(key, format!("{c}/{sub}"));
        }
    }
    set("HOME", home_in.display().to_string());
    set("LANG", "C.UTF-8".to_owned());
    set("npm_config_update_notifier", "false".to_owned());
    set("npm_config_fund", "false".to_owned());
    // `npm audit` after every install is one more registry round trip, for a report that
    // belongs in CI rather than in a deploy's build log.
    set("npm_config_audit", "false".to_owned());
    set("PIP_DISABLE_PIP_VERSION_CHECK", "1".to_owned());
    for (key, value) in inherited_host_settings() {
        set(&key, value);
    }
    env.extend(ctx.env.iter().cloned());
    env.push(("CI".to_owned(), SecretString::from("true")));
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipyard_core::ExposeSecret;

    fn variables(manager: Option<PackageManager>) -> Vec<(String, String)> {
        let ctx = StepContext {
            ws: PathBuf::from("/ws"),
            workdir: String::new(),
            env: Vec::new(),
            path: Vec::new(),
            cache: Some(PathBuf::from("/cache")),
            manager,
        };
        environment(
            &ctx,
            Path::new(APP_DIR),
            Path::new(HOME_DIR),
            Some(Path::new(CACHE_DIR)),
        )
        .into_iter()
        .map(|(k, v)| (k, v.expose_secret().to_owned()))
        .collect()
    }

    #[test]
    fn only_a_pnpm_build_gets_the_pnpm_store_setting() {
        let store = ("npm_config_store_dir".to_owned(), format!("{CACHE_DIR}/pnpm-store"));
        assert!(variables(Some(PackageManager::Pnpm)).contains(&store));
        for manager in [None, Some(PackageManager::Npm), Some(PackageManager::Yarn)] {
            let env = variables(manager);
            assert!(
                env.iter().all(|(k, _)| k != "npm_config_store_dir"),
                "{manager:?}: {env:?}"
            );
            assert!(env.contains(&("npm_config_cache".to_owned(), format!("{CACHE_DIR}/npm"))));
        }
    }
}
