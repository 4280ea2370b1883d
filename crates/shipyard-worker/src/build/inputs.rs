//! What a build reads before it starts: its workspace's scope, the deployment, the project,
//! the repository and its credential, the secrets, the attached databases and the redactor. A failure here names its
//! cause (a secret that does not decrypt), so the deployment fails instead of staying queued.

use super::Failure;
use crate::context::Worker;
use shipyard_core::Redactor;
use shipyard_store::attached::{AttachedDatabase, attached};
use shipyard_store::secrets::{open_connection_credential, redactor, resolve};
use shipyard_store::{
    Backend, ClaimedJob, Connections, Deployment, Deployments, Environments, Jobs, Project, Projects, ResolvedSecret,
    TenantScope,
};

/// What the build reads before it starts.
pub(super) struct Inputs {
    pub scope: TenantScope,
    pub deployment: Deployment,
    pub project: Project,
    pub secrets: Vec<ResolvedSecret>,
    /// The databases attached to the environment: their variables join the secrets.
    pub attached: Vec<AttachedDatabase>,
    pub redactor: Redactor,
    pub git_auth: shipyard_build::GitAuth,
    pub url: shipyard_core::GitUrl,
    /// The workspace's `storageGbLimit`, in bytes.
    pub storage_limit: u64,
}

impl Inputs {
    /// The variables the build and the release's instances get.
    pub fn environment(&self) -> Vec<(String, shipyard_core::SecretString)> {
        shipyard_store::attached::sandbox_env(&self.secrets, &self.attached)
    }
}

impl Worker {
    pub(super) async fn inputs(&self, job: &ClaimedJob) -> Result<Inputs, Failure> {
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
        let attached = attached(
            &mut tx,
            &scope,
            &self.secret_box,
            (&project.id, &deployment.environment_id),
            None,
        )
        .await?;
        let redactor = redactor(&mut tx, &scope, &self.secret_box).await?;
        let storage_limit = u64::try_from(tx.storage_gb_limit(&scope).await?).unwrap_or(0) << 30;
        let git_auth =
            shipyard_build::GitAuth::from_stored(&conn.auth_kind, open_connection_credential(&self.secret_box, &conn)?);
        Ok(Inputs {
            scope,
            deployment,
            project,
            secrets,
            attached,
            redactor,
            git_auth,
            url: conn.url,
            storage_limit,
        })
    }
}
