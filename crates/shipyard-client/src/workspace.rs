//! Typed calls inside one workspace: projects, environments, deployments, releases, secrets and
//! repository connections, each returning the body the API documents.

use crate::{Client, ClientError, paths};
use serde_json::json;
use shipyard_api_types::connections::{ConnectionView, CreateConnectionRequest};
use shipyard_api_types::deployments::{DeploymentView, ReleaseView, RollbackRequest, TriggerRequest};
use shipyard_api_types::paging::List;
use shipyard_api_types::projects::{
    CreateEnvironmentRequest, CreateProjectRequest, DetectRequest, DetectResponse, EnvironmentView, ProjectView,
};
use shipyard_api_types::runtime::RuntimeView;
use shipyard_api_types::secrets::{CreateSecretRequest, SecretView, UpdateSecretRequest};

/// One page of a list: 1-based `page`, `per_page` items (1 to 100).
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// The page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
}

impl Paging {
    /// The first page of `per_page` items.
    pub fn first(per_page: u32) -> Self {
        Self { page: 1, per_page }
    }

    /// The page after this one.
    pub fn next(self) -> Self {
        Self {
            page: self.page + 1,
            ..self
        }
    }

    pub(crate) fn query(self) -> String {
        format!("page={}&perPage={}", self.page, self.per_page)
    }
}

/// A client's calls inside workspace `tenant` (`ten_…`).
#[derive(Debug, Clone)]
pub struct Workspace {
    pub(crate) client: Client,
    pub(crate) tenant: String,
}

impl Client {
    /// This client's calls inside workspace `tenant` (`ten_…`).
    pub fn workspace(&self, tenant: impl Into<String>) -> Workspace {
        Workspace {
            client: self.clone(),
            tenant: tenant.into(),
        }
    }
}

impl Workspace {
    /// The workspace's id.
    pub fn id(&self) -> &str {
        &self.tenant
    }

    /// A page of projects whose name or slug contains `search`, if given.
    pub async fn projects(&self, search: Option<&str>, paging: Paging) -> Result<List<ProjectView>, ClientError> {
        let search = search
            .map(|s| format!("search={}&", paths::encode(s)))
            .unwrap_or_default();
        let path = format!("{}?{search}{}", paths::projects(&self.tenant), paging.query());
        self.client.get(&path).await?.parse()
    }

    /// A project (`prj_…`).
    pub async fn project(&self, project: &str) -> Result<ProjectView, ClientError> {
        self.client.get(&paths::project(&self.tenant, project)).await?.parse()
    }

    /// Creates a project (with its production environment).
    pub async fn create_project(&self, req: &CreateProjectRequest) -> Result<ProjectView, ClientError> {
        self.client.post_typed(&paths::projects(&self.tenant), req).await
    }

    /// Deletes a project with its environments and history.
    pub async fn delete_project(&self, project: &str) -> Result<(), ClientError> {
        self.client
            .delete(&paths::project(&self.tenant, project))
            .await?
            .ok()
            .map(drop)
    }

    /// What a repository is and how it would build.
    pub async fn detect(&self, req: &DetectRequest) -> Result<DetectResponse, ClientError> {
        let path = format!("{}/detect", paths::projects(&self.tenant));
        self.client.post_typed(&path, req).await
    }

    /// Adds an environment to a project.
    pub async fn create_environment(
        &self,
        project: &str,
        req: &CreateEnvironmentRequest,
    ) -> Result<EnvironmentView, ClientError> {
        let path = format!("{}/environments", paths::project(&self.tenant, project));
        self.client.post_typed(&path, req).await
    }

    /// Queues a deployment of an environment.
    pub async fn deploy(&self, project: &str, env: &str, req: &TriggerRequest) -> Result<DeploymentView, ClientError> {
        let path = format!("{}/deployments", paths::environment(&self.tenant, project, env));
        self.client.post_typed(&path, req).await
    }

    /// A deployment (`dep_…` or `DEP-0001`).
    pub async fn deployment(&self, deployment: &str) -> Result<DeploymentView, ClientError> {
        self.client
            .get(&paths::deployment(&self.tenant, deployment))
            .await?
            .parse()
    }

    /// A page of a project's deployments, newest first; `environment` narrows it.
    pub async fn deployments(
        &self,
        project: &str,
        environment: Option<&str>,
        paging: Paging,
    ) -> Result<List<DeploymentView>, ClientError> {
        self.project_list(project, "deployments", environment, paging).await
    }

    /// A page of one of a project's lists (`deployments`, `releases`), narrowed to `environment`.
    async fn project_list<T: serde::de::DeserializeOwned>(
        &self,
        project: &str,
        list: &str,
        environment: Option<&str>,
        paging: Paging,
    ) -> Result<List<T>, ClientError> {
        let env = environment
            .map(|e| format!("environmentId={}&", paths::encode(e)))
            .unwrap_or_default();
        let path = format!(
            "{}/{list}?{env}{}",
            paths::project(&self.tenant, project),
            paging.query()
        );
        self.client.get(&path).await?.parse()
    }

    /// Asks a running deployment to stop.
    pub async fn cancel(&self, deployment: &str) -> Result<DeploymentView, ClientError> {
        let path = format!("{}/cancel", paths::deployment(&self.tenant, deployment));
        self.client.post_typed(&path, &json!({})).await
    }

    /// Deploys a finished deployment's commit again.
    pub async fn retry(&self, deployment: &str) -> Result<DeploymentView, ClientError> {
        let path = format!("{}/retry", paths::deployment(&self.tenant, deployment));
        self.client.post_typed(&path, &json!({})).await
    }

    /// The path of a one-off command's live output (`Follow` reads it).
    pub fn run_stream(&self, run: &str) -> String {
        format!("{}/logs/stream", paths::run(&self.tenant, run))
    }

    /// Starts a one-off command in the environment's active release.
    pub async fn start_run(
        &self,
        project: &str,
        env: &str,
        command: &str,
    ) -> Result<shipyard_api_types::runs::RunView, ClientError> {
        let path = format!("{}/runs", paths::environment(&self.tenant, project, env));
        let req = shipyard_api_types::runs::CreateRunRequest {
            command: command.to_owned(),
        };
        self.client.post_typed(&path, &req).await
    }

    /// A one-off command, running or ended.
    pub async fn run(&self, run: &str) -> Result<shipyard_api_types::runs::RunView, ClientError> {
        self.client.get(&paths::run(&self.tenant, run)).await?.parse()
    }

    /// The path of a deployment's live build log (`Follow` reads it).
    pub fn deployment_stream(&self, deployment: &str) -> String {
        format!("{}/stream", paths::deployment(&self.tenant, deployment))
    }

    /// What serves an environment.
    pub async fn runtime(&self, project: &str, env: &str) -> Result<RuntimeView, ClientError> {
        let path = format!("{}/runtime", paths::environment(&self.tenant, project, env));
        self.client.get(&path).await?.parse()
    }

    /// A page of a project's releases, newest first; `environment` narrows it.
    pub async fn releases(
        &self,
        project: &str,
        environment: Option<&str>,
        paging: Paging,
    ) -> Result<List<ReleaseView>, ClientError> {
        self.project_list(project, "releases", environment, paging).await
    }

    /// Makes an earlier release live again.
    pub async fn rollback(&self, req: &RollbackRequest) -> Result<ReleaseView, ClientError> {
        let path = format!("{}/rollback", paths::tenant(&self.tenant));
        self.client.post_typed(&path, req).await
    }

    /// The path of a release's runtime log (`/stream` after it for the live one).
    pub fn runtime_logs(&self, release: &str) -> String {
        format!("{}/runtime-logs", paths::release(&self.tenant, release))
    }

    /// A page of secrets (names, scopes and versions); `query` narrows it (`projectId=…`).
    pub async fn secrets(&self, query: &str, paging: Paging) -> Result<List<SecretView>, ClientError> {
        let path = format!("{}?{query}&{}", paths::secrets(&self.tenant), paging.query());
        self.client.get(&path).await?.parse()
    }

    /// Sets a new secret.
    pub async fn create_secret(&self, req: &CreateSecretRequest) -> Result<SecretView, ClientError> {
        self.client.post_typed(&paths::secrets(&self.tenant), req).await
    }

    /// Gives a secret a new value (a new version).
    pub async fn update_secret(&self, secret: &str, req: &UpdateSecretRequest) -> Result<SecretView, ClientError> {
        let path = format!("{}/{secret}", paths::secrets(&self.tenant));
        self.client.patch_typed(&path, req).await
    }

    /// Removes a secret and its versions.
    pub async fn delete_secret(&self, secret: &str) -> Result<(), ClientError> {
        let path = format!("{}/{secret}", paths::secrets(&self.tenant));
        self.client.delete(&path).await?.ok().map(drop)
    }

    /// Connects a repository.
    pub async fn create_connection(&self, req: &CreateConnectionRequest) -> Result<ConnectionView, ClientError> {
        self.client.post_typed(&paths::connections(&self.tenant), req).await
    }

    /// Removes a repository connection.
    pub async fn delete_connection(&self, connection: &str) -> Result<(), ClientError> {
        let path = format!("{}/{connection}", paths::connections(&self.tenant));
        self.client.delete(&path).await?.ok().map(drop)
    }
}
