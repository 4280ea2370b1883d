//! One deployment's build, from fetch to release. Every step says what it does in the build
//! log; a failure ends in one sentence naming the step, the command and its exit code or
//! reason.

use crate::cache::BuildCache;
use crate::context::Worker;
use shipyard_build::ArtifactStore;
use shipyard_build::build::{
    OutputLine, Plan, Step, StepContext, StepOutcome, check_node_version, run_step, toolchain,
};
use shipyard_build::{FileTree, detect};
use shipyard_core::{DeploymentStatus, Redactor, ReleaseId, RuntimeType};
use shipyard_store::logs::LogKind;
use shipyard_store::secrets::{open_connection_credential, redactor, resolve};
use shipyard_store::{
    Backend, ClaimedJob, Connections, Deployment, DeploymentUpdate, Deployments, Environments, Jobs, NewRelease,
    Project, Projects, Releases, ResolvedSecret, Secrets, SqliteStore, TenantScope,
};
use std::path::Path;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// How a build ended short of a release.
struct Failure {
    canceled: bool,
    error: String,
}

impl Failure {
    fn new(error: impl Into<String>) -> Self {
        Self {
            canceled: false,
            error: error.into(),
        }
    }
}

impl From<shipyard_store::StoreError> for Failure {
    fn from(e: shipyard_store::StoreError) -> Self {
        tracing::error!(error = %e, "store error during a build");
        Failure::new("the platform's database failed during the build; retry the deployment")
    }
}

/// What the build reads before it starts.
struct Inputs {
    scope: TenantScope,
    deployment: Deployment,
    project: Project,
    secrets: Vec<ResolvedSecret>,
    redactor: Redactor,
    git_auth: shipyard_build::GitAuth,
    url: shipyard_core::GitUrl,
}

fn describe(step: &Step, outcome: &StepOutcome, timeout: std::time::Duration, memory_mb: u64) -> Failure {
    let what = format!("{} command `{}`", step.name, step.command);
    match outcome {
        StepOutcome::Exited(code) => Failure::new(format!("{what} exited with code {code}")),
        StepOutcome::Signaled(signal) => Failure::new(format!("{what} was killed by signal {signal}")),
        StepOutcome::TimedOut => Failure::new(format!(
            "{what} was stopped: the build ran past its {} s time limit (--build-timeout)",
            timeout.as_secs()
        )),
        StepOutcome::OutOfMemory => Failure::new(format!(
            "{what} ran out of memory (limit {memory_mb} MiB, --build-memory)"
        )),
        StepOutcome::SpawnFailed(e) => Failure::new(format!("{what} could not start: {e}")),
        StepOutcome::Canceled => Failure {
            canceled: true,
            error: "canceled by a user".into(),
        },
    }
}

/// Gives `path` and everything under it to `uid:gid` (the build user).
fn chown_tree(path: &Path, owner: Option<(u32, u32)>) -> std::io::Result<()> {
    let Some((uid, gid)) = owner else { return Ok(()) };
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), owner)?;
        }
    }
    Ok(())
}

impl Worker {
    pub(crate) async fn log(&self, stream: &str, text: impl Into<String>) {
        self.logs.writer().append(stream, LogKind::System, text).await;
    }

    async fn set_status(
        &self,
        scope: &TenantScope,
        dep: &Deployment,
        update: DeploymentUpdate,
        event: &str,
    ) -> Result<(), Failure> {
        let mut tx = self.store.write().await?;
        tx.update_deployment(scope, &dep.id, &update, event).await?;
        SqliteStore::commit(tx).await?;
        self.logs.notify();
        Ok(())
    }

    async fn inputs(&self, job: &ClaimedJob) -> Result<Inputs, Failure> {
        let mut tx = self.store.read().await?;
        let scope = tx
            .worker_scope(&job.tenant_id)
            .await?
            .ok_or_else(|| Failure::new("the workspace no longer exists"))?;
        let deployment = tx
            .deployment(&scope, &job.deployment_id)
            .await?
            .ok_or_else(|| Failure::new("the deployment was deleted"))?;
        let project = tx
            .project(&scope, &deployment.project_id)
            .await?
            .ok_or_else(|| Failure::new("the project was deleted"))?;
        tx.environment(&scope, &deployment.environment_id)
            .await?
            .ok_or_else(|| Failure::new("the environment was deleted"))?;
        let conn = tx
            .connection(&scope, &project.connection_id)
            .await?
            .ok_or_else(|| Failure::new("the repository connection was deleted"))?;
        let secrets = resolve(
            &mut tx,
            &scope,
            &self.secret_box,
            &project.id,
            &deployment.environment_id,
        )
        .await?;
        let redactor = redactor(&mut tx, &scope, &self.secret_box).await?;
        let git_auth = match (
            open_connection_credential(&self.secret_box, &conn)?,
            conn.auth_kind.as_str(),
        ) {
            (None, _) => shipyard_build::GitAuth::None,
            (Some(key), "ssh-key") => shipyard_build::GitAuth::SshKey(key),
            (Some(token), _) => shipyard_build::GitAuth::Token(token),
        };
        Ok(Inputs {
            scope,
            deployment,
            project,
            secrets,
            redactor,
            git_auth,
            url: conn.url,
        })
    }

    /// Builds a claimed job's deployment and records how it ended.
    pub(crate) async fn process(&self, job: ClaimedJob) {
        let stream = format!("build:{}", job.deployment_id);
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let heartbeat = self.heartbeat(job.id, cancel_tx);
        let workspace = self.settings.work_root.join("builds").join(job.deployment_id.as_str());
        let inputs = self.inputs(&job).await;
        let outcome = match &inputs {
            Ok(inputs) => self.build(inputs, &stream, &workspace, cancel_rx).await,
            Err(failure) => Err(Failure::new(failure.error.clone())),
        };
        heartbeat.abort();
        if let Err(e) = std::fs::remove_dir_all(&workspace)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %workspace.display(), error = %e, "build workspace not removed");
        }
        if let (Ok(inputs), Err(failure)) = (&inputs, outcome) {
            let status = if failure.canceled {
                DeploymentStatus::Canceled
            } else {
                DeploymentStatus::Failed
            };
            self.log(&stream, format!("{}: {}", status.as_str(), failure.error))
                .await;
            self.logs.writer().flush().await;
            let update = DeploymentUpdate {
                status: Some(status),
                error: Some(failure.error.clone()),
                ..Default::default()
            };
            if self
                .set_status(&inputs.scope, &inputs.deployment, update, &failure.error)
                .await
                .is_err()
            {
                tracing::error!(deployment = %job.deployment_id, "could not record the end of a build");
            }
        }
        let finished = async {
            let mut tx = self.store.write().await?;
            tx.finish_job(job.id).await?;
            SqliteStore::commit(tx).await
        };
        if let Err(e) = finished.await {
            tracing::error!(job = job.id, error = %e, "could not mark a job done");
        }
        self.logs.notify();
    }

    async fn build(
        &self,
        inputs: &Inputs,
        stream: &str,
        ws: &Path,
        cancel: watch::Receiver<bool>,
    ) -> Result<(), Failure> {
        let Inputs {
            scope,
            deployment: dep,
            project,
            ..
        } = inputs;
        self.set_status(
            scope,
            dep,
            DeploymentUpdate {
                status: Some(DeploymentStatus::Building),
                ..Default::default()
            },
            "build started",
        )
        .await?;
        self.log(
            stream,
            format!("Building {} for {} (branch {})", dep_ref(dep), project.name, dep.branch),
        )
        .await;
        self.log(stream, format!("Sandbox: {}", self.sandbox.describe())).await;
        self.log(stream, format!("Fetching {}", inputs.url.as_str())).await;
        let (commit, subject, mirror) = self
            .repos
            .fetch_commit(
                &project.connection_id,
                &inputs.url,
                &inputs.git_auth,
                &dep.branch,
                dep.commit_sha.as_deref(),
            )
            .await
            .map_err(|e| {
                Failure::new(format!(
                    "fetching the repository failed: {}",
                    inputs.git_auth.redact(&e.to_string())
                ))
            })?;
        let short = &commit[..commit.len().min(7)];
        self.log(stream, format!("Commit {short}: {subject}")).await;
        let update = DeploymentUpdate {
            commit_sha: Some(commit.clone()),
            commit_message: Some(subject.clone()),
            ..DeploymentUpdate::default()
        };
        self.set_status(scope, dep, update, &format!("commit {short}: {subject}"))
            .await?;

        let src = ws.join("src");
        std::fs::create_dir_all(&src)
            .and_then(|()| std::fs::create_dir_all(ws.join("home")))
            .map_err(|e| Failure::new(format!("the build workspace could not be made: {e}")))?;
        self.repos
            .export(&mirror, &commit, &src)
            .await
            .map_err(|e| Failure::new(format!("checking out {short} failed: {e}")))?;
        chown_tree(ws, self.sandbox.user())
            .map_err(|e| Failure::new(format!("the build workspace could not be prepared: {e}")))?;

        let runtime = project.runtime.runtime_type;
        if let Some(wanted) = &project.build.node_version {
            let host = host_node_version().await;
            check_node_version(wanted, &host)
                .map_err(|e| Failure::new(format!("build failed before it started: {e}")))?;
            self.log(stream, format!("Node.js {host} satisfies nodeVersion {wanted}"))
                .await;
        }
        let app_dir = if project.build.root_directory.is_empty() {
            src.clone()
        } else {
            src.join(&project.build.root_directory)
        };
        let found = detect(&FileTree::from_dir(&app_dir));
        let manager = project.build.package_manager.or(found.package_manager);
        let version = found.package_manager_version.clone();
        let cache_root = self.settings.work_root.join("cache").join(project.id.as_str());
        let label = format!(
            "{} {}",
            manager.map_or("none", |m| m.as_str()),
            version.as_deref().unwrap_or("default")
        );
        let cache = BuildCache::prepare(
            &cache_root,
            &label,
            &app_dir,
            inputs.deployment.clear_cache,
            self.sandbox.user(),
        )
        .map_err(|e| Failure::new(format!("the build cache could not be prepared: {e}")))?;
        let (app_in, _, cache_in) = self.sandbox.paths(ws, Some(&cache.dir));
        let tools = format!("{}/tools", cache_in.as_deref().unwrap_or(&app_in).display());
        let chain = toolchain(manager, version.as_deref(), &tools, &app_in.display().to_string());
        if !chain.description.is_empty() {
            self.log(stream, format!("Package manager: {}", chain.description))
                .await;
        }
        self.log(stream, cache.message.clone()).await;
        let mut env: Vec<(String, String)> = inputs
            .secrets
            .iter()
            .map(|s| (s.name.to_string(), s.value.clone()))
            .collect();
        if !inputs.secrets.is_empty() {
            let names: Vec<String> = inputs
                .secrets
                .iter()
                .map(|s| format!("{} (v{}, {})", s.name, s.version, s.scope.as_str()))
                .collect();
            self.log(stream, format!("Secrets: {}", names.join(", "))).await;
        }
        env.extend(chain.env.iter().cloned());
        let ctx = StepContext {
            ws: ws.to_owned(),
            workdir: project.build.root_directory.clone(),
            env,
            path: chain.path.clone(),
            cache: Some(cache.dir.clone()),
        };
        let mut plan = Plan::new(&project.build, runtime);
        if let Some(setup) = chain.setup {
            plan.steps.insert(
                0,
                Step {
                    name: "setup",
                    command: setup,
                },
            );
        }
        self.run_steps(inputs, &plan, stream, ctx, cache.hit, cancel).await?;
        self.release(inputs, stream, ws, &commit).await?;
        if let Err(e) = cache.commit() {
            tracing::warn!(error = %e, "the build cache key could not be written");
        }
        Ok(())
    }

    async fn run_steps(
        &self,
        inputs: &Inputs,
        plan: &Plan,
        stream: &str,
        ctx: StepContext,
        cache_hit: bool,
        cancel: watch::Receiver<bool>,
    ) -> Result<(), Failure> {
        let deadline = Instant::now() + self.settings.timeout;
        let (tx, mut rx) = mpsc::channel::<OutputLine>(1024);
        let writer = self.logs.writer();
        let stream_name = stream.to_owned();
        let forward = tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let kind = if line.stderr { LogKind::Stderr } else { LogKind::Stdout };
                writer.append(&stream_name, kind, line.text).await;
            }
        });
        let mut steps: Vec<Step> = Vec::new();
        if plan.python_venv {
            steps.push(Step {
                name: "install",
                command: "python3 -m venv /srv/app/.venv".into(),
            });
        }
        steps.extend(plan.steps.iter().cloned());
        // On a cache hit the install must not need the registry at all.
        let mut offline = ctx.clone();
        offline.env.push(("npm_config_offline".into(), "true".into()));
        offline.env.push(("UV_OFFLINE".into(), "1".into()));
        let memory_mb = self.sandbox_memory_mb();
        let mut result = Ok(());
        for step in &steps {
            self.log(stream, format!("$ {}", step.command)).await;
            let install = step.name == "install" && !step.command.contains("-m venv");
            let run = |ctx: &StepContext, command: &str| {
                let (ctx, command) = (ctx.clone(), command.to_owned());
                let (redactor, tx, sandbox, mut cancel) = (
                    inputs.redactor.clone(),
                    tx.clone(),
                    self.sandbox.clone(),
                    cancel.clone(),
                );
                async move { run_step(&sandbox, &ctx, &command, &redactor, &tx, &mut cancel, deadline).await }
            };
            let mut outcome = run(if install && cache_hit { &offline } else { &ctx }, &step.command).await;
            if install && cache_hit && matches!(outcome, StepOutcome::Exited(c) if c != 0) {
                self.log(stream, "the offline install from the cache failed; retrying online")
                    .await;
                outcome = run(&ctx, &step.command).await;
            }
            if install && step.command.trim() == "npm ci" && matches!(outcome, StepOutcome::Exited(c) if c != 0) {
                self.log(
                    stream,
                    "npm ci failed; falling back to npm install (the lockfile may not match this registry)",
                )
                .await;
                self.log(stream, "$ npm install").await;
                outcome = run(&ctx, "npm install").await;
            }
            if !outcome.success() {
                result = Err(describe(step, &outcome, self.settings.timeout, memory_mb));
                break;
            }
        }
        drop(tx);
        let _ = forward.await;
        result
    }

    fn sandbox_memory_mb(&self) -> u64 {
        self.settings.memory_bytes / (1024 * 1024)
    }

    async fn release(&self, inputs: &Inputs, stream: &str, ws: &Path, commit: &str) -> Result<(), Failure> {
        let Inputs {
            scope,
            deployment: dep,
            project,
            ..
        } = inputs;
        let root = &project.build.root_directory;
        let app = if root.is_empty() {
            ws.join("src")
        } else {
            ws.join("src").join(root)
        };
        if project.runtime.runtime_type == RuntimeType::Static {
            let out = project.build.output_directory.as_deref().ok_or_else(|| {
                Failure::new("outputDirectory is not set for this static project; set it with PATCH …/build-config")
            })?;
            let dir = app.join(out);
            let has_files = std::fs::read_dir(&dir).map(|mut d| d.next().is_some());
            match has_files {
                Ok(true) => {}
                Ok(false) => {
                    return Err(Failure::new(format!(
                        "output directory `{out}` is empty after the build"
                    )));
                }
                Err(_) => {
                    return Err(Failure::new(format!(
                        "output directory `{out}` does not exist after the build"
                    )));
                }
            }
        }
        self.set_status(
            scope,
            dep,
            DeploymentUpdate {
                status: Some(DeploymentStatus::Deploying),
                ..Default::default()
            },
            "storing the artifact",
        )
        .await?;
        let release_id = ReleaseId::generate();
        let artifacts = self
            .artifacts()
            .map_err(|e| Failure::new(format!("the artifact store failed: {e}")))?;
        artifacts
            .store(&ws.join("src"), &release_id)
            .map_err(|e| Failure::new(format!("the artifact could not be stored: {e}")))?;
        self.log(stream, format!("Artifact stored as release {release_id}"))
            .await;

        let versions: Vec<serde_json::Value> = inputs
            .secrets
            .iter()
            .map(|s| serde_json::json!({ "secretId": s.secret_id.to_string(), "name": s.name.to_string(), "version": s.version }))
            .collect();
        let config =
            serde_json::json!({ "build": project.build, "runtime": project.runtime, "secretVersions": versions });
        let mut tx = self.store.write().await?;
        let release = tx
            .create_release(
                scope,
                &NewRelease {
                    id: release_id.clone(),
                    project_id: project.id.clone(),
                    environment_id: dep.environment_id.clone(),
                    deployment_id: Some(dep.id.clone()),
                    commit_sha: commit.to_owned(),
                    rollback_of: None,
                    config: config.to_string(),
                },
            )
            .await?;
        let pins: Vec<_> = inputs
            .secrets
            .iter()
            .map(|s| (s.secret_id.clone(), s.version))
            .collect();
        tx.pin_secret_versions(scope, release.id.as_str(), &pins).await?;
        let newer_active = match tx.active_release(scope, &dep.environment_id).await? {
            Some(active) => match &active.deployment_id {
                Some(id) => tx.deployment(scope, id).await?.is_some_and(|d| d.number > dep.number),
                None => false,
            },
            None => false,
        };
        let event = if newer_active {
            format!("release v{} stored; a newer release stays active", release.version)
        } else {
            tx.activate_release(scope, &release.id).await?;
            format!("release v{} is active", release.version)
        };
        let update = DeploymentUpdate {
            status: Some(DeploymentStatus::Ready),
            release_id: Some(release.id.clone()),
            ..DeploymentUpdate::default()
        };
        let pruned = tx
            .prune_releases(scope, &dep.environment_id, self.settings.release_retention)
            .await?;
        self.log(stream, format!("Ready: {event}")).await;
        self.logs.writer().flush().await;
        tx.update_deployment(scope, &dep.id, &update, &event).await?;
        SqliteStore::commit(tx).await?;
        self.logs.notify();
        for old in pruned {
            // The rows already say the files are gone; a file left behind only costs disk.
            if let Err(e) = artifacts.remove(&old) {
                tracing::warn!(release = %old, error = %e, "pruned release's artifact could not be removed");
            }
        }
        Ok(())
    }
}

impl Worker {
    fn artifacts(&self) -> std::io::Result<ArtifactStore> {
        ArtifactStore::new(self.settings.data_dir.join("artifacts"))
    }
}

fn dep_ref(dep: &Deployment) -> String {
    shipyard_core::deployment::deployment_ref(dep.number)
}

async fn host_node_version() -> String {
    match tokio::process::Command::new("node").arg("--version").output().await {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => "no Node.js at all".to_owned(),
    }
}
