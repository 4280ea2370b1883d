//! The path parameters of each resource, loaded and checked in one place: the caller's
//! workspace first (404 for a stranger), then the object inside it (404 when it is not there),
//! so every handler answers in the contract's order before it checks a role or a body.

use crate::api::deployments::find_deployment;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use serde::Deserialize;
use shipyard_core::{EnvironmentId, ProjectId};
use shipyard_store::{Deployment, Environment, Environments, Project, Projects, TenantScope, Tx};
use utoipa::IntoParams;

/// `/tenants/{tenantId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct TenantPath {
    /// `ten_…`
    pub tenant_id: String,
}

impl TenantPath {
    /// The caller's scope in the workspace.
    pub async fn load(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<TenantScope> {
        auth.tenant(tx, &self.tenant_id).await
    }
}

/// `/tenants/{tenantId}/projects/{projectId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct ProjectPath {
    /// `ten_…`
    pub tenant_id: String,
    /// `prj_…`
    pub project_id: String,
}

impl ProjectPath {
    /// The caller's scope in the workspace and the project.
    pub async fn load(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<(TenantScope, Project)> {
        let scope = auth.workspace(tx, &self.tenant_id).await?;
        let project = find_project(tx, &scope, &self.project_id).await?;
        auth.reach(&project.id, || format!("project {}", self.project_id))?;
        auth.admit()?;
        Ok((scope, project))
    }
}

/// `/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct EnvironmentPath {
    /// `ten_…`
    pub tenant_id: String,
    /// `prj_…`
    pub project_id: String,
    /// `env_…`
    pub environment_id: String,
}

impl EnvironmentPath {
    /// The caller's scope in the workspace, the project and its environment.
    pub async fn load(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<(TenantScope, Project, Environment)> {
        let scope = auth.workspace(tx, &self.tenant_id).await?;
        let project = find_project(tx, &scope, &self.project_id).await?;
        auth.reach(&project.id, || format!("project {}", self.project_id))?;
        let env = find_env(tx, &scope, &project, &self.environment_id).await?;
        auth.admit()?;
        Ok((scope, project, env))
    }
}

/// `/tenants/{tenantId}/deployments/{deploymentId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct DeploymentPath {
    /// `ten_…`
    pub tenant_id: String,
    /// `dep_…` or `DEP-0001`
    pub deployment_id: String,
}

impl DeploymentPath {
    /// The caller's scope in the workspace and the deployment.
    pub async fn load(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<(TenantScope, Deployment)> {
        let scope = auth.workspace(tx, &self.tenant_id).await?;
        let dep = find_deployment(tx, &scope, &self.deployment_id).await?;
        auth.reach(&dep.project_id, || format!("deployment {}", self.deployment_id))?;
        auth.admit()?;
        Ok((scope, dep))
    }
}

/// The project `raw` names in the workspace, or 404.
pub(crate) async fn find_project(tx: &mut Tx, scope: &TenantScope, raw: &str) -> ApiResult<Project> {
    let not_found = || ApiError::not_found(format!("project {raw} not found"));
    let id = ProjectId::parse(raw).map_err(|_| not_found())?;
    tx.project(scope, &id).await?.ok_or_else(not_found)
}

/// The environment `raw` names in `project`, or 404.
pub(crate) async fn find_env(tx: &mut Tx, scope: &TenantScope, project: &Project, raw: &str) -> ApiResult<Environment> {
    let not_found = || ApiError::not_found(format!("environment {raw} not found"));
    let id = EnvironmentId::parse(raw).map_err(|_| not_found())?;
    tx.environment(scope, &id)
        .await?
        .filter(|e| e.project_id == project.id)
        .ok_or_else(not_found)
}

/// `/tenants/{tenantId}/runs/{runId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct RunPath {
    /// `ten_…`
    pub tenant_id: String,
    /// `run_…`
    pub run_id: String,
}

impl RunPath {
    /// The caller's scope in the workspace and the run (known while the server remembers it).
    pub async fn load(
        &self,
        auth: &Auth,
        tx: &mut Tx,
        state: &crate::state::AppState,
    ) -> ApiResult<(TenantScope, shipyard_runtime::runs::Run)> {
        let scope = auth.workspace(tx, &self.tenant_id).await?;
        let not_found = || ApiError::not_found(format!("run {} not found", self.run_id));
        let id = shipyard_core::RunId::parse(&self.run_id).map_err(|_| not_found())?;
        let run = state.runtime.run_of(scope.tenant_id(), &id).ok_or_else(not_found)?;
        let env = tx.environment(&scope, &run.environment).await?.ok_or_else(not_found)?;
        auth.reach(&env.project_id, || format!("run {}", self.run_id))?;
        auth.admit()?;
        Ok((scope, run))
    }
}

/// `/tenants/{tenantId}/databases/{databaseId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct DatabasePath {
    /// `ten_…`
    pub tenant_id: String,
    /// `db_…`
    pub database_id: String,
}

impl DatabasePath {
    /// The caller's scope in the workspace and the database.
    pub async fn load(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<(TenantScope, shipyard_store::Database)> {
        let found = self.find(auth, tx).await?;
        auth.admit()?;
        Ok(found)
    }

    /// The same, the token's scope not checked yet (a backup is looked up first).
    async fn find(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<(TenantScope, shipyard_store::Database)> {
        let scope = auth.workspace(tx, &self.tenant_id).await?;
        let not_found = || ApiError::not_found(format!("database {} not found", self.database_id));
        let id = shipyard_core::DatabaseId::parse(&self.database_id).map_err(|_| not_found())?;
        let database = shipyard_store::Databases::database(tx, &scope, &id)
            .await?
            .ok_or_else(not_found)?;
        auth.reach_database(tx, &scope, &database.id).await?;
        Ok((scope, database))
    }
}

/// `/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct BackupPath {
    /// `ten_…`
    pub tenant_id: String,
    /// `db_…`
    pub database_id: String,
    /// `bkp_…`
    pub backup_id: String,
}

impl BackupPath {
    /// The caller's scope, the database and the backup.
    pub async fn load(
        &self,
        auth: &Auth,
        tx: &mut Tx,
    ) -> ApiResult<(TenantScope, shipyard_store::Database, shipyard_store::Backup)> {
        let database = DatabasePath {
            tenant_id: self.tenant_id.clone(),
            database_id: self.database_id.clone(),
        };
        let (scope, database) = database.find(auth, tx).await?;
        let not_found = || ApiError::not_found(format!("backup {} not found", self.backup_id));
        let id = shipyard_core::BackupId::parse(&self.backup_id).map_err(|_| not_found())?;
        let backup = shipyard_store::Backups::backup(tx, &scope, &database.id, &id)
            .await?
            .ok_or_else(not_found)?;
        auth.admit()?;
        Ok((scope, database, backup))
    }
}

/// `/tenants/{tenantId}/databases/{databaseId}/restores/{restoreId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct RestorePath {
    /// `ten_…`
    pub tenant_id: String,
    /// `db_…`
    pub database_id: String,
    /// `rst_…`
    pub restore_id: String,
}

/// `/tenants/{tenantId}/projects/{projectId}/domains/{domainId}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct DomainPath {
    /// `ten_…`
    pub tenant_id: String,
    /// `prj_…`
    pub project_id: String,
    /// `dom_…`
    pub domain_id: String,
}

impl DomainPath {
    /// The caller's scope in the workspace, the project and the domain.
    pub async fn load(&self, auth: &Auth, tx: &mut Tx) -> ApiResult<(TenantScope, Project, shipyard_store::Domain)> {
        use shipyard_store::Domains;
        let scope = auth.workspace(tx, &self.tenant_id).await?;
        let project = find_project(tx, &scope, &self.project_id).await?;
        auth.reach(&project.id, || format!("project {}", self.project_id))?;
        let not_found = || ApiError::not_found(format!("domain {} not found", self.domain_id));
        let id = shipyard_core::DomainId::parse(&self.domain_id).map_err(|_| not_found())?;
        let domain = tx.domain(&scope, &project.id, &id).await?.ok_or_else(not_found)?;
        auth.admit()?;
        Ok((scope, project, domain))
    }
}
