//! The doors a project's sandbox gets (one per database attached to its environment), and the
//! attachments that allow them, known to the doors from the start.

use shipyard_core::{EnvironmentId, ProjectId};
use shipyard_sandbox::network::Grant;
use shipyard_store::attached::AttachedDatabase;

/// A door to each of `attached`, for a sandbox of `environment` of `project`.
pub fn grants(project: &ProjectId, environment: &EnvironmentId, attached: &[AttachedDatabase]) -> Vec<Grant> {
    attached
        .iter()
        .map(|a| Grant {
            database: a.database_id.to_string(),
            project: project.to_string(),
            environment: environment.to_string(),
            port: a.port,
        })
        .collect()
}

impl crate::Runtime {
    /// Allows every attachment the store holds: at start, before any sandbox asks for a door.
    pub async fn allow_attached<B: shipyard_store::Backend>(&self, store: &B) -> shipyard_store::Result<()> {
        use shipyard_store::Attachments;
        let Some(doors) = self.doors() else {
            return Ok(());
        };
        let mut tx = store.read().await?;
        let all = tx.all_attachments().await?;
        B::commit(tx).await?;
        for a in all {
            doors.allow(
                a.database_id.as_str(),
                a.project_id.as_str(),
                a.environment_id.as_ref().map(EnvironmentId::as_str),
            );
        }
        Ok(())
    }
}
