//! Typed calls for a workspace's managed databases.

use crate::ClientError;
use crate::paths;
use crate::workspace::{Paging, Workspace};
use shipyard_api_types::databases::{
    AttachDatabaseRequest, AttachmentChange, CreateDatabaseRequest, DatabaseConnection, DatabaseView,
    DetachDatabaseRequest, PasswordRotation, RotatePasswordRequest,
};
use shipyard_api_types::paging::List;

impl Workspace {
    /// A page of the workspace's databases.
    pub async fn databases(&self, paging: Paging) -> Result<List<DatabaseView>, ClientError> {
        let path = format!("{}?{}", paths::databases(&self.tenant), paging.query());
        self.client.get(&path).await?.parse()
    }

    /// One database.
    pub async fn database(&self, id: &str) -> Result<DatabaseView, ClientError> {
        let path = format!("{}/{id}", paths::databases(&self.tenant));
        self.client.get(&path).await?.parse()
    }

    /// Makes a database (it starts `provisioning`).
    pub async fn create_database(&self, req: &CreateDatabaseRequest) -> Result<DatabaseView, ClientError> {
        self.client.post_typed(&paths::databases(&self.tenant), req).await
    }

    /// `start` or `stop` a database.
    pub async fn database_action(&self, id: &str, action: &str) -> Result<DatabaseView, ClientError> {
        let path = format!("{}/{id}/{action}", paths::databases(&self.tenant));
        self.client.post(&path, &serde_json::json!({})).await?.parse()
    }

    /// How to connect to a database, password included.
    pub async fn database_connection(&self, id: &str) -> Result<DatabaseConnection, ClientError> {
        let path = format!("{}/{id}/connection", paths::databases(&self.tenant));
        self.client.get(&path).await?.parse()
    }

    /// Attaches a database to a project (or one environment); `redeploy` queues a deployment
    /// of each environment covered.
    pub async fn attach_database(
        &self,
        id: &str,
        req: &AttachDatabaseRequest,
        redeploy: bool,
    ) -> Result<AttachmentChange, ClientError> {
        let path = format!("{}/{id}/attach?redeploy={redeploy}", paths::databases(&self.tenant));
        self.client.post_typed(&path, req).await
    }

    /// Detaches a database from a project (or one environment).
    pub async fn detach_database(
        &self,
        id: &str,
        req: &DetachDatabaseRequest,
        redeploy: bool,
    ) -> Result<AttachmentChange, ClientError> {
        let path = format!("{}/{id}/detach?redeploy={redeploy}", paths::databases(&self.tenant));
        self.client.post_typed(&path, req).await
    }

    /// Rotates the database's password; the old one works for `req.grace_seconds`.
    pub async fn rotate_database_password(
        &self,
        id: &str,
        req: &RotatePasswordRequest,
        redeploy: bool,
    ) -> Result<PasswordRotation, ClientError> {
        let path = format!(
            "{}/{id}/rotate-password?redeploy={redeploy}",
            paths::databases(&self.tenant)
        );
        self.client.post_typed(&path, req).await
    }

    /// Deletes a database and its files.
    pub async fn delete_database(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("{}/{id}", paths::databases(&self.tenant));
        self.client.delete(&path).await?.ok().map(drop)
    }
}
