//! A build's stages before its steps run: fetching the commit (while the sandbox's network is
//! set up) and preparing the workspace, toolchain, cache and plan. Each runs in a span of its
//! own inside the deployment's, so the server's log tells one deployment's story.

use super::confine::chown_tree;
use super::steps::CacheUse;
use super::{BuildLog, Failure, Inputs, disk};
use crate::cache::BuildCache;
use crate::context::Worker;
use shipyard_build::build::{Plan, Sandbox, StepContext, check_node_version, toolchain};
use shipyard_build::{FileTree, detect};
use shipyard_core::{DeploymentStatus, SecretString};
use shipyard_sandbox::Network;
use shipyard_store::DeploymentUpdate;
use std::path::{Path, PathBuf};

/// The commit fetched, and the sandbox it builds in.
pub(super) struct Fetched {
    /// The project's sandbox.
    pub sandbox: Sandbox,
    /// Its network namespace (removed when dropped).
    pub network: Option<Network>,
    /// The doors to its attached databases (closed when dropped).
    pub doors: Option<shipyard_sandbox::network::Opened>,
    /// The commit built.
    pub commit: String,
    /// The mirror holding it.
    pub mirror: PathBuf,
}

/// What the steps need: their context and plan, and the cache they use.
pub(super) struct Prepared {
    /// Each step's workspace, environment and PATH.
    pub ctx: StepContext,
    /// The steps.
    pub plan: Plan,
    /// The project's package cache.
    pub cache: BuildCache,
    /// How the steps use it.
    pub cache_use: CacheUse,
}

impl Worker {
    /// Marks the deployment building and fetches its commit while the sandbox's network is
    /// set up (neither waits on the other); the commit is recorded on the deployment.
    #[tracing::instrument(name = "fetch", skip_all)]
    pub(super) async fn fetch(&self, inputs: &Inputs, log: &BuildLog) -> Result<Fetched, Failure> {
        let Inputs {
            scope,
            deployment: dep,
            project,
            ..
        } = inputs;
        let building = DeploymentUpdate {
            status: Some(DeploymentStatus::Building),
            ..Default::default()
        };
        self.set_status(scope, dep, building, "build started").await?;
        tracing::info!(branch = %dep.branch, "build started");
        log.say(format!(
            "Building {} for {} (branch {})",
            super::dep_ref(dep),
            project.name,
            dep.branch
        ))
        .await;
        log.say(format!("Fetching {}", inputs.url.as_str())).await;
        let (confined, fetched) = tokio::join!(
            self.project_sandbox(inputs),
            self.repos.fetch_commit(
                &project.connection_id,
                &inputs.url,
                &inputs.git_auth,
                &dep.branch,
                dep.commit_sha.as_deref(),
            )
        );
        let (sandbox, network, doors) = confined?;
        log.say(format!("Sandbox: {}", sandbox.describe())).await;
        let (commit, subject, mirror) = fetched.map_err(|e| {
            Failure::new(format!(
                "fetching the repository failed: {}",
                inputs.git_auth.redact(&e.to_string())
            ))
        })?;
        let short = &commit[..commit.len().min(7)];
        log.say(format!("Commit {short}: {subject}")).await;
        let update = DeploymentUpdate {
            commit_sha: Some(commit.clone()),
            commit_message: Some(log.redact(&subject)),
            ..DeploymentUpdate::default()
        };
        self.set_status(scope, dep, update, &log.redact(&format!("commit {short}: {subject}")))
            .await?;
        tracing::info!(commit = short, "commit fetched");
        Ok(Fetched {
            sandbox,
            network,
            doors,
            commit,
            mirror,
        })
    }

    /// Checks the commit out into workspace `ws` (handed to the project's user), and works out
    /// the toolchain, the package cache on build disk `disk`, the secrets and the steps.
    #[tracing::instrument(name = "prepare", skip_all)]
    pub(super) async fn prepare(
        &self,
        inputs: &Inputs,
        log: &BuildLog,
        ws: &Path,
        disk: &Path,
        fetched: &Fetched,
    ) -> Result<Prepared, Failure> {
        let Fetched {
            sandbox,
            commit,
            mirror,
            ..
        } = fetched;
        let project = &inputs.project;
        let short = &commit[..commit.len().min(7)];
        let src = ws.join("src");
        std::fs::create_dir(ws)
            .and_then(|()| std::fs::create_dir(&src))
            .and_then(|()| std::fs::create_dir(ws.join("home")))
            .map_err(|e| Failure::new(format!("the build workspace could not be made: {e}")))?;
        self.repos
            .export(mirror, commit, &src)
            .await
            .map_err(|e| Failure::new(format!("checking out {short} failed: {e}")))?;
        chown_tree(ws, sandbox.user())
            .and_then(|()| {
                use std::os::unix::fs::PermissionsExt;
                // The project's user alone may enter its workspace.
                std::fs::set_permissions(ws, std::fs::Permissions::from_mode(0o700))
            })
            .map_err(|e| Failure::new(format!("the build workspace could not be prepared: {e}")))?;

        if let Some(wanted) = &project.build.node_version {
            let host = super::host_node_version().await;
            check_node_version(wanted, &host)
                .map_err(|e| Failure::new(format!("build failed before it started: {e}")))?;
            log.say(format!("Node.js {host} satisfies nodeVersion {wanted}")).await;
        }
        let app_dir = if project.build.root_directory.is_empty() {
            src.clone()
        } else {
            // The repository decides what `rootDirectory` is: a link there is not followed.
            shipyard_sandbox::files::check_dir_beneath(&src, Path::new(&project.build.root_directory))
                .map_err(|e| Failure::new(format!("rootDirectory cannot be used: {e}")))?;
            src.join(&project.build.root_directory)
        };
        let tree = FileTree::from_dir(&app_dir);
        // A manifest the server would not read (a link, a FIFO) is not one a build may use.
        if let Some(why) = tree.unreadable.first() {
            return Err(Failure::new(format!("the repository cannot be built as it is: {why}")));
        }
        let found = detect(&tree);
        let manager = project.build.package_manager.or(found.package_manager);
        let version = found.package_manager_version.clone();
        let label = format!(
            "{} {}",
            manager.map_or("none", |m| m.as_str()),
            version.as_deref().unwrap_or("default")
        );
        let cache = BuildCache::prepare(
            &disk.join(disk::CACHE),
            &label,
            &app_dir,
            inputs.deployment.clear_cache,
            sandbox.user(),
        )
        .map_err(|e| Failure::new(format!("the build cache could not be prepared: {e}")))?;
        let (app_in, _, cache_in) = shipyard_build::build::paths(sandbox, ws, Some(&cache.dir));
        let tools = format!("{}/tools", cache_in.as_deref().unwrap_or(&app_in).display());
        let chain = toolchain(manager, version.as_deref(), &tools, &app_in.display().to_string());
        if !chain.description.is_empty() {
            log.say(format!("Package manager: {}", chain.description)).await;
        }
        log.say(cache.message.clone()).await;
        let mut env = inputs.environment();
        if !inputs.secrets.is_empty() {
            let names: Vec<String> = inputs
                .secrets
                .iter()
                .map(|s| format!("{} (v{}, {})", s.name, s.version, s.scope.as_str()))
                .collect();
            log.say(format!("Secrets: {}", names.join(", "))).await;
        }
        if !inputs.attached.is_empty() {
            let names: Vec<String> = inputs
                .attached
                .iter()
                .map(|a| format!("{} (database {})", a.env_var, a.name))
                .collect();
            log.say(format!("Databases: {}", names.join(", "))).await;
        }
        env.extend(
            chain
                .env
                .iter()
                .map(|(k, v)| (k.clone(), SecretString::from(v.as_str()))),
        );
        let ctx = StepContext {
            ws: ws.to_owned(),
            workdir: project.build.root_directory.clone(),
            env,
            path: chain.path.clone(),
            cache: Some(cache.dir.clone()),
            manager,
        };
        let plan = Plan::new(&project.build, project.runtime.runtime_type).with_toolchain(&chain, manager, &tools);
        let node_modules = manager
            .filter(|m| m.is_node())
            .and(cache_in.as_ref())
            .map(|c| c.display().to_string());
        let cache_use = CacheUse {
            hit: cache.hit,
            node_modules,
        };
        tracing::info!(cache_hit = cache.hit, steps = plan.steps.len(), "build prepared");
        Ok(Prepared {
            ctx,
            plan,
            cache,
            cache_use,
        })
    }
}
