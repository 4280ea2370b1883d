//! The doors a project's sandbox gets: one per database attached to its environment.

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
