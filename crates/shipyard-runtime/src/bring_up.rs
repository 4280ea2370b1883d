//! Starting server releases' instances from what the store says: every live one at start
//! (no rebuild), a paused project's when it is resumed, and a rollback's release before it
//! goes live. Each uses the release's own config snapshot and pinned secret versions.

use crate::{InstanceSpec, Runtime};
use shipyard_core::{
    BuildConfig, EnvironmentId, ProjectId, ProjectStatus, Redactor, ReleaseConfig, ReleaseId, RuntimeConfig,
    RuntimeType, SecretBox, SecretString,
};
use shipyard_store::attached::{attached, sandbox_env};
use shipyard_store::secrets::{pinned, redactor};
use shipyard_store::{Attachments, Backend, Connections, Databases, Jobs, LiveRoute, LiveRoutes, Secrets, TenantScope};
use std::time::Duration;

impl Runtime {
    /// The instances of release `artifact` (of `project` and `environment`, made with
    /// `config`, running with the secret versions pinned to `pins_of`: itself, or for a
    /// rollback the release it returns to); None for a static release.
    pub async fn startable(
        &self,
        tx: &mut (impl Secrets + Connections + Jobs + Databases + Attachments + Send),
        secret_box: &SecretBox,
        scope: &TenantScope,
        (project, environment): (&ProjectId, &EnvironmentId),
        (artifact, pins_of): (&ReleaseId, &ReleaseId),
        config: &ReleaseConfig,
    ) -> Result<Option<InstanceSpec>, String> {
        let (build, runtime) = (&config.build, &config.runtime);
        if runtime.runtime_type == RuntimeType::Static {
            return Ok(None);
        }
        let uids = self
            .driver
            .as_ref()
            .map(|d| d.uids.clone())
            .ok_or("this server runs no app instances")?;
        let uid = tx.sandbox_uid(project, uids).await.map_err(|e| e.to_string())?;
        let secrets = pinned(tx, scope, secret_box, pins_of.as_str())
            .await
            .map_err(|e| e.to_string())?;
        let databases = attached(tx, scope, secret_box, (project, environment), Some(&config.attachments))
            .await
            .map_err(|e| e.to_string())?;
        let redactor = redactor(tx, scope, secret_box).await.map_err(|e| e.to_string())?;
        let env = sandbox_env(&secrets, &databases);
        let mut spec = self.instance_spec((artifact, scope, environment), (build, runtime), env, uid, redactor)?;
        spec.doors = crate::doors::grants(project, environment, &databases);
        Ok(Some(spec))
    }

    /// What runs for `release` of `scope`'s `environment` (built with `build`, running as
    /// `runtime` says) with `env` as the project's sandbox user `uid`; `Err` when it has
    /// nothing to start. It carries no budget and no doors: the caller adds the budget it
    /// checks and the databases it attaches.
    pub fn instance_spec(
        &self,
        (release, scope, environment): (&ReleaseId, &TenantScope, &EnvironmentId),
        (build, runtime): (&BuildConfig, &RuntimeConfig),
        env: Vec<(String, SecretString)>,
        uid: u32,
        redactor: Redactor,
    ) -> Result<InstanceSpec, String> {
        let start_command = runtime
            .start_command
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or("startCommand is not set for this server project; set it with PATCH …/runtime-config")?;
        let pids = self.driver.as_ref().map_or(512, |d| d.sandbox.limits().pids);
        Ok(InstanceSpec {
            release: release.clone(),
            tenant: scope.tenant_id().clone(),
            environment: environment.clone(),
            budget: None,
            artifact: shipyard_build::ArtifactStore::of(&self.workspaces, scope.tenant_id().as_str()).path(release),
            root_directory: build.root_directory.clone(),
            start_command,
            port: runtime.port.unwrap_or(crate::DEFAULT_PORT),
            count: runtime.instances.clamp(1, 10),
            env,
            uid,
            redactor,
            doors: Vec::new(),
            limits: crate::instance_limits(runtime, pids),
            home_bytes: u64::from(runtime.limits.disk_mb) << 20,
            health_path: runtime.health_check_path.clone(),
            health_within: self.health_within(runtime),
            drain: Duration::from_secs(u64::from(runtime.drain_seconds)),
        })
    }

    /// Makes what runs match the store after a change to what may be live (a pause or resume,
    /// a suspension or reinstatement, a delete): routes at once, the instances of what may no
    /// longer run stopped, and those of what may run again started in the background, each on
    /// its own health clock.
    pub async fn reconcile<B: Backend + Clone + Send + Sync + 'static>(&self, store: &B, secret_box: &SecretBox) {
        self.resync(store).await;
        self.retire_inactive(store, false).await;
        let (runtime, store, secret_box) = (self.clone(), store.clone(), secret_box.clone());
        self.tasks
            .spawn_until_stopping("bring up", async move { runtime.bring_up(&store, &secret_box).await });
    }

    /// Starts the instances of every live server release that has none (at start, after a
    /// resume or reinstatement), several at once, each waiting on its own health check, then
    /// routes them: an app that never gets healthy holds up no other. Failures are logged: the
    /// route stays a 503 page. Calls while one runs are folded into one more pass after it.
    pub async fn bring_up<B: Backend>(&self, store: &B, secret_box: &SecretBox) {
        use futures_util::StreamExt;
        if !self.bring_ups.enter() {
            return;
        }
        loop {
            let rows = match store.read().await {
                Ok(mut tx) => tx.live_routes(None).await.unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            let slots = Slots::new();
            futures_util::stream::iter(by_turns(rows))
                .for_each_concurrent(None, |row| self.bring_up_one(store, secret_box, row, &slots))
                .await;
            self.resync(store).await;
            if !self.bring_ups.again() {
                return;
            }
        }
    }

    /// Starts `row`'s release's instances when it may run and nothing runs or starts it yet,
    /// once `slots` has room for its workspace.
    async fn bring_up_one<B: Backend>(&self, store: &B, secret_box: &SecretBox, row: LiveRoute, slots: &Slots) {
        let Some((release, config)) = row.release else { return };
        let waits = !row.suspended
            && row.status == ProjectStatus::Active
            && config.runtime.runtime_type != RuntimeType::Static
            && self.instances(release.as_str()).is_none();
        if !waits {
            return;
        }
        let Ok(_slot) = slots.take(&row.tenant_id).await else {
            return;
        };
        let prepared = async {
            let mut tx = store.write().await.map_err(|e| e.to_string())?;
            let scope = tx
                .worker_scope(&row.tenant_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the workspace is gone")?;
            let startable = self
                .startable(
                    &mut tx,
                    secret_box,
                    &scope,
                    (&row.project_id, &row.environment_id),
                    (&release, &release),
                    &config,
                )
                .await?;
            B::commit(tx).await.map_err(|e| e.to_string())?;
            Ok::<_, String>(startable)
        };
        match prepared.await {
            Ok(Some(spec)) => {
                let _activation = self.activation(&row.environment_id).await;
                // A deploy or rollback may have gone live while this one waited.
                let still = match store.read().await {
                    Ok(mut tx) => tx.live_routes(Some(&row.environment_id)).await.unwrap_or_default(),
                    Err(_) => Vec::new(),
                };
                let still_live = still.iter().any(|r| {
                    r.release.as_ref().is_some_and(|(id, _)| *id == release)
                        && !r.suspended
                        && r.status == ProjectStatus::Active
                });
                if !still_live || self.instances(release.as_str()).is_some() {
                    return;
                }
                match self.start_release(spec).await {
                    // Routed as soon as it answers, not when the slowest of the others does.
                    // Nothing of it is to commit: it is live already, so a pause or delete
                    // meanwhile retires it like any other (`Started` is let go at once).
                    Ok(started) => {
                        drop(started);
                        self.resync(store).await;
                    }
                    Err(why) => {
                        tracing::error!(%release, reason = %why, "a live release's instances did not become healthy");
                    }
                }
            }
            Ok(None) => {}
            Err(why) => {
                tracing::error!(%release, reason = %why, "a live release's instances could not be prepared")
            }
        }
    }
}

/// `rows` taken a workspace at a time in turn, so the first releases started (and the slots
/// they hold while they wait on their health checks) are spread over workspaces: one with many
/// apps that never get healthy does not take every slot.
fn by_turns(rows: Vec<LiveRoute>) -> Vec<LiveRoute> {
    let mut queues: Vec<std::collections::VecDeque<LiveRoute>> = Vec::new();
    for row in rows {
        match queues
            .iter_mut()
            .find(|q| q.front().is_some_and(|r| r.tenant_id == row.tenant_id))
        {
            Some(queue) => queue.push_back(row),
            None => queues.push(std::collections::VecDeque::from([row])),
        }
    }
    let mut turns = Vec::new();
    while queues.iter().any(|q| !q.is_empty()) {
        turns.extend(queues.iter_mut().filter_map(std::collections::VecDeque::pop_front));
    }
    turns
}

/// How many releases a bring-up starts at once, and how many of them one workspace's may be:
/// each holds its slot through its health wait (up to its `healthCheckTimeoutSeconds`), so a
/// workspace whose apps never get healthy holds a few slots, never all of them.
const AT_ONCE: usize = 16;
const AT_ONCE_PER_WORKSPACE: usize = 4;

/// The slots of one bring-up pass.
struct Slots {
    all: tokio::sync::Semaphore,
    per_workspace:
        std::sync::Mutex<std::collections::HashMap<shipyard_core::TenantId, std::sync::Arc<tokio::sync::Semaphore>>>,
}

impl Slots {
    fn new() -> Self {
        Self {
            all: tokio::sync::Semaphore::new(AT_ONCE),
            per_workspace: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Waits for a slot of `tenant`'s, then one of all (never holding one of all while it
    /// waits for its workspace's).
    async fn take(
        &self,
        tenant: &shipyard_core::TenantId,
    ) -> Result<(tokio::sync::OwnedSemaphorePermit, tokio::sync::SemaphorePermit<'_>), tokio::sync::AcquireError> {
        let own = {
            let mut map = self
                .per_workspace
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            map.entry(tenant.clone())
                .or_insert_with(|| std::sync::Arc::new(tokio::sync::Semaphore::new(AT_ONCE_PER_WORKSPACE)))
                .clone()
        };
        let own = own.acquire_owned().await?;
        Ok((own, self.all.acquire().await?))
    }
}

/// Bring-ups asked for while one runs: folded into one more pass of the running one.
#[derive(Debug, Default)]
pub(crate) struct BringUps(std::sync::Mutex<(bool, bool)>);

impl BringUps {
    /// Whether the caller is to run a bring-up (none runs); else the running one will pass again.
    fn enter(&self) -> bool {
        let mut state = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (running, again) = &mut *state;
        if *running {
            *again = true;
            return false;
        }
        *running = true;
        true
    }

    /// Whether the running bring-up is to pass again (someone asked meanwhile); when not, it ends.
    fn again(&self) -> bool {
        let mut state = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (running, again) = &mut *state;
        if std::mem::take(again) {
            return true;
        }
        *running = false;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipyard_core::{ProjectType, TenantId};

    fn row(tenant: &str, label: &str) -> LiveRoute {
        LiveRoute {
            environment_id: EnvironmentId::generate(),
            tenant_id: TenantId::from_trusted(tenant.to_owned()),
            project_id: ProjectId::generate(),
            host_label: label.to_owned(),
            workspace_slug: tenant.to_owned(),
            domains: Vec::new(),
            suspended: false,
            status: ProjectStatus::Active,
            project_type: ProjectType::Node,
            release: None,
        }
    }

    #[test]
    fn releases_come_up_a_workspace_at_a_time_in_turn() {
        let rows = vec![
            row("a", "a1"),
            row("a", "a2"),
            row("a", "a3"),
            row("b", "b1"),
            row("c", "c1"),
            row("b", "b2"),
        ];
        let order: Vec<String> = by_turns(rows).into_iter().map(|r| r.host_label).collect();
        assert_eq!(order, ["a1", "b1", "c1", "a2", "b2", "a3"]);
    }
}
