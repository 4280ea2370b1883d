//! Starting server releases' instances from what the store says: every live one at start
//! (no rebuild), a paused project's when it is resumed, and a rollback's release before it
//! goes live. Each uses the release's own config snapshot and pinned secret versions.

use crate::{InstanceSpec, Runtime};
use shipyard_core::{BuildConfig, ProjectId, ProjectStatus, ReleaseId, RuntimeConfig, RuntimeType, SecretBox};
use shipyard_store::secrets::{pinned, redactor};
use shipyard_store::{Backend, Connections, Jobs, LiveRoutes, Secrets, TenantScope};
use std::time::Duration;

/// How long a release brought up from the store has to answer its health check.
pub const HEALTH_WITHIN: Duration = Duration::from_secs(60);

/// A server release ready to start: its spec and its health-check path.
pub struct Startable {
    /// What runs.
    pub spec: InstanceSpec,
    /// What must answer 2xx/3xx.
    pub health_path: String,
}

impl Runtime {
    /// The instances of release `artifact` (of `project`, made with `config`, running with
    /// the secret versions pinned to `pins_of`: itself, or for a rollback the release it
    /// returns to); None for a static release.
    pub async fn startable(
        &self,
        tx: &mut (impl Secrets + Connections + Jobs + Send),
        secret_box: &SecretBox,
        scope: &TenantScope,
        project: &ProjectId,
        (artifact, pins_of): (&ReleaseId, &ReleaseId),
        config: &str,
    ) -> Result<Option<Startable>, String> {
        let config: serde_json::Value = serde_json::from_str(config).map_err(|e| e.to_string())?;
        let runtime: RuntimeConfig = serde_json::from_value(config["runtime"].clone()).map_err(|e| e.to_string())?;
        if runtime.runtime_type == RuntimeType::Static {
            return Ok(None);
        }
        let build: BuildConfig = serde_json::from_value(config["build"].clone()).map_err(|e| e.to_string())?;
        let uids = self
            .driver
            .as_ref()
            .map(|d| d.uids.clone())
            .ok_or("this server runs no app instances")?;
        let uid = tx.sandbox_uid(project, uids).await.map_err(|e| e.to_string())?;
        let secrets = pinned(tx, scope, secret_box, pins_of.as_str())
            .await
            .map_err(|e| e.to_string())?;
        let redactor = redactor(tx, scope, secret_box).await.map_err(|e| e.to_string())?;
        let start_command = runtime
            .start_command
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or("the release has no startCommand")?;
        Ok(Some(Startable {
            spec: InstanceSpec {
                release: artifact.clone(),
                artifact: self.artifacts.join(artifact.as_str()),
                root_directory: build.root_directory,
                start_command,
                port: runtime.port.unwrap_or(crate::DEFAULT_PORT),
                count: runtime.instances.clamp(1, 10),
                env: secrets.into_iter().map(|s| (s.name.to_string(), s.value)).collect(),
                uid,
                redactor,
                limits: crate::instance_limits(&runtime, self.driver.as_ref().map_or(512, |d| d.sandbox.limits().pids)),
            },
            health_path: runtime.health_check_path,
        }))
    }

    /// Starts the instances of every live server release that has none (at start, after a
    /// resume), then routes them. Failures are logged: the route stays a 503 page.
    pub async fn bring_up<B: Backend>(&self, store: &B, secret_box: &SecretBox) {
        let rows = match store.read().await {
            Ok(mut tx) => tx.live_routes(None).await.unwrap_or_default(),
            Err(_) => return,
        };
        for row in rows {
            let Some((release, config)) = row.release else { continue };
            if row.suspended || row.status != ProjectStatus::Active || self.instances(release.as_str()).is_some() {
                continue;
            }
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
                        &row.project_id,
                        (&release, &release),
                        &config,
                    )
                    .await?;
                B::commit(tx).await.map_err(|e| e.to_string())?;
                Ok::<_, String>(startable)
            };
            match prepared.await {
                Ok(Some(start)) => {
                    if let Err((why, _)) = self.start_release(start.spec, &start.health_path, HEALTH_WITHIN).await {
                        tracing::error!(%release, reason = %why, "a live release's instances did not become healthy");
                    }
                }
                Ok(None) => {}
                Err(why) => {
                    tracing::error!(%release, reason = %why, "a live release's instances could not be prepared")
                }
            }
        }
        self.resync(store).await;
    }
}
