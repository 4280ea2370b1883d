//! Projects and their environments: made from a connected repository, configured from what
//! detection found unless the user said otherwise.

pub mod config;
pub mod create;
pub mod detect;
pub mod environments;
pub mod read;
pub mod update;
pub(crate) mod validate;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
pub use shipyard_api_types::projects::{ConfigView, DetectionSummary, EnvironmentView, ProjectView};
use shipyard_store::{Environment, Environments, Project, TenantScope, Tx};

/// `http://<project>-<env>.<workspace>.<apps-domain>[:port]`, or `https://…` when the HTTPS
/// listener has a certificate for it (plain HTTP is redirected there).
pub fn live_url(state: &AppState, scope: &TenantScope, env: &Environment) -> String {
    let host = state.runtime.host(&env.host_label, scope.tenant_slug().as_str());
    match &state.settings.https {
        Some(https) if https.certificates.cover(&host) => {
            shipyard_core::live_host::live_url(&host, Some(https.port), true)
        }
        _ => shipyard_core::live_host::live_url(&host, state.settings.public_port, false),
    }
}

/// An environment as shown.
pub fn environment_view(state: &AppState, scope: &TenantScope, env: Environment) -> EnvironmentView {
    EnvironmentView {
        url: live_url(state, scope, &env),
        id: env.id.to_string(),
        name: env.name,
        slug: env.slug.to_string(),
        branch: env.branch,
    }
}

/// The full view of a project, with its environments.
pub async fn project_view(
    state: &AppState,
    tx: &mut Tx,
    scope: &TenantScope,
    project: Project,
) -> ApiResult<ProjectView> {
    let envs = tx.environments(scope, &project.id).await?;
    let production_branch = envs
        .iter()
        .find(|e| e.is_production)
        .map(|e| e.branch.clone())
        .unwrap_or_default();
    let detection = project.detection.as_deref().and_then(|d| serde_json::from_str(d).ok());
    let environments = envs.into_iter().map(|e| environment_view(state, scope, e)).collect();
    Ok(ProjectView {
        id: project.id.to_string(),
        tenant_id: project.tenant_id.to_string(),
        name: project.name,
        slug: project.slug.to_string(),
        description: project.description,
        project_type: project.project_type,
        status: project.status,
        repository_connection_id: project.connection_id.to_string(),
        root_directory: project.build.root_directory.clone(),
        production_branch,
        runs_server: project.project_type.runs_server(),
        config: ConfigView {
            build: project.build,
            runtime: project.runtime,
        },
        environments,
        detection,
        created_at: project.created_at,
        updated_at: project.updated_at,
    })
}

/// A store conflict on projects or environments, as the user should read it.
pub fn conflict(err: shipyard_store::StoreError, what: &str) -> ApiError {
    use shipyard_store::{Constraint, StoreError};
    match err {
        StoreError::Conflict(Constraint::ProjectSlug) => ApiError::conflict(format!(
            "a project with the slug of {what} already exists in this workspace"
        )),
        StoreError::Conflict(Constraint::EnvironmentSlug) => ApiError::conflict(format!(
            "the project already has an environment with the slug of {what}"
        )),
        StoreError::Conflict(Constraint::EnvironmentHost) => ApiError::conflict(format!(
            "{what} would get the same live host as an existing environment in this workspace; choose another name"
        )),
        other => other.into(),
    }
}
