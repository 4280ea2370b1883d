//! Typed calls for a database's backups and restores, and its tunnel.

use crate::paths;
use crate::workspace::{Paging, Workspace};
use crate::{ApiResponse, ClientError};
use reqwest::Method;
use reqwest::header::{CONNECTION, UPGRADE};
use shipyard_api_types::backups::{BackupView, CreateRestoreRequest, RestoreView};
use shipyard_api_types::paging::List;

/// The protocol a database tunnel switches to.
pub const TUNNEL_PROTOCOL: &str = "shipyard-tcp";

impl Workspace {
    fn backups_path(&self, database: &str) -> String {
        format!("{}/{database}/backups", paths::databases(&self.tenant))
    }

    /// A page of a database's backups, newest first.
    pub async fn backups(&self, database: &str, paging: Paging) -> Result<List<BackupView>, ClientError> {
        let path = format!("{}?{}", self.backups_path(database), paging.query());
        self.client.get(&path).await?.parse()
    }

    /// Takes a backup (it starts `pending`).
    pub async fn create_backup(&self, database: &str) -> Result<BackupView, ClientError> {
        self.client
            .post(&self.backups_path(database), &serde_json::json!({}))
            .await?
            .parse()
    }

    /// One backup.
    pub async fn backup(&self, database: &str, id: &str) -> Result<BackupView, ClientError> {
        let path = format!("{}/{id}", self.backups_path(database));
        self.client.get(&path).await?.parse()
    }

    /// Proves a backup again; answers once the proof is done.
    pub async fn verify_backup(&self, database: &str, id: &str) -> Result<BackupView, ClientError> {
        let path = format!("{}/{id}/verify", self.backups_path(database));
        self.client.post(&path, &serde_json::json!({})).await?.parse()
    }

    /// Restores a backup (a job: it starts `pending`).
    pub async fn restore_backup(
        &self,
        database: &str,
        id: &str,
        req: &CreateRestoreRequest,
    ) -> Result<RestoreView, ClientError> {
        let path = format!("{}/{id}/restore", self.backups_path(database));
        self.client.post_typed(&path, req).await
    }

    /// One restore.
    pub async fn restore(&self, database: &str, id: &str) -> Result<RestoreView, ClientError> {
        let path = format!("{}/{database}/restores/{id}", paths::databases(&self.tenant));
        self.client.get(&path).await?.parse()
    }

    /// The backup's plain dump, as a response whose body streams it.
    pub async fn download_backup(&self, database: &str, id: &str) -> Result<reqwest::Response, ClientError> {
        let path = format!("{}/{id}/download", self.backups_path(database));
        let response = self.client.request(Method::GET, &path).send().await?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(refused(response, "a download").await)
    }

    /// Opens a tunnel to the database: a connection that carries its protocol once upgraded.
    pub async fn tunnel(&self, database: &str) -> Result<reqwest::Upgraded, ClientError> {
        let path = format!("{}/{database}/tunnel", paths::databases(&self.tenant));
        let response = self
            .client
            .request(Method::GET, &path)
            .header(CONNECTION, "Upgrade")
            .header(UPGRADE, TUNNEL_PROTOCOL)
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::SWITCHING_PROTOCOLS {
            return Ok(response.upgrade().await?);
        }
        Err(refused(response, "a tunnel").await)
    }
}

/// The error a response that is not what `what` needs carries.
async fn refused(response: reqwest::Response, what: &str) -> ClientError {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = match response.bytes().await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        Err(e) => return e.into(),
    };
    match (ApiResponse { status, headers, body }).ok() {
        Err(e) => e,
        Ok(_) => ClientError::Unexpected(format!("{what} was answered {status}")),
    }
}
