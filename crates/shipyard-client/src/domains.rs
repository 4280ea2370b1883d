//! Typed calls for a project's custom domains.

use crate::ClientError;
use crate::paths;
use crate::workspace::{Paging, Workspace};
use shipyard_api_types::domains::{CreateDomainRequest, DomainView};
use shipyard_api_types::paging::List;

impl Workspace {
    /// A page of the project's domains.
    pub async fn domains(&self, project: &str, paging: Paging) -> Result<List<DomainView>, ClientError> {
        let path = format!("{}?{}", paths::domains(&self.tenant, project), paging.query());
        self.client.get(&path).await?.parse()
    }

    /// Adds a domain (it starts `pending`).
    pub async fn create_domain(&self, project: &str, req: &CreateDomainRequest) -> Result<DomainView, ClientError> {
        self.client
            .post_typed(&paths::domains(&self.tenant, project), req)
            .await
    }

    /// Looks the domain's TXT record up now.
    pub async fn verify_domain(&self, project: &str, id: &str) -> Result<DomainView, ClientError> {
        let path = format!("{}/{id}/verify", paths::domains(&self.tenant, project));
        self.client.post(&path, &serde_json::json!({})).await?.parse()
    }

    /// Removes a domain.
    pub async fn delete_domain(&self, project: &str, id: &str) -> Result<(), ClientError> {
        let path = format!("{}/{id}", paths::domains(&self.tenant, project));
        self.client.delete(&path).await?.ok().map(drop)
    }
}
