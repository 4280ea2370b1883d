//! `POST /projects`: a project from a connected repository, configured by detection where the
//! request is silent.

use super::config::ApplyPatch;
use super::detect::{body_connection, run};
use super::{DetectionSummary, ProjectView, conflict, project_view, validate};
use crate::api::git_input;
use crate::api::views::display_name;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, JsonBody};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::projects::CreateProjectRequest;
use shipyard_build::Detection;
use shipyard_core::{BuildConfig, ProjectType, Role, RuntimeConfig, Slug};
use shipyard_store::{Backend, NewProject, Projects, SqliteStore};

/// Build and runtime config from detection, when what it found runs like `project_type`.
fn from_detection(project_type: ProjectType, d: &mut Detection, root: &str) -> (BuildConfig, RuntimeConfig) {
    let mut build = BuildConfig {
        root_directory: root.to_owned(),
        ..BuildConfig::default()
    };
    let mut runtime = RuntimeConfig::defaults(project_type.runtime_type());
    match d.project_type {
        Some(found) if found.runtime_type() == project_type.runtime_type() => {
            build.install_command = d.install_command.clone();
            build.build_command = d.build_command.clone();
            build.output_directory = d.output_directory.clone();
            build.node_version = d.node_version.clone();
            build.python_version = d.python_version.clone();
            build.package_manager = d.package_manager;
            runtime.start_command = d.start_command.clone();
            runtime.port = d.port;
        }
        Some(found) => d.evidence.push(format!(
            "Detection found a {} app but the project was created as {}: its commands were not used; set them in config.",
            found.as_str(),
            project_type.as_str()
        )),
        None => d.evidence.push("Nothing was detected: set the build and runtime commands in config.".into()),
    }
    (build, runtime)
}

/// Creates a project and its production environment. Whatever `config` leaves out is filled
/// from detection, so `{ name, type, repositoryConnectionId }` alone is enough to deploy.
#[utoipa::path(post, path = "/tenants/{tenantId}/projects", tag = "projects", request_body = CreateProjectRequest,
    params(TenantPath), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = ProjectView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Slug or live host taken", body = ErrorBody),
    (status = 422, description = "Unknown connection or branch, inconsistent type, unreadable repository", body = ErrorBody)))]
pub async fn create_project(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: CreateProjectRequest = body.parse()?;
    let name = display_name(&req.name, "name")?;
    let description = req.description.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if description.chars().count() > 1000 {
        return Err(ApiError::bad_request(
            "field `description` must be at most 1000 characters",
        ));
    }
    let root = validate::directory("rootDirectory", req.root_directory.as_deref().unwrap_or_default())?;
    let branch = req
        .production_branch
        .as_deref()
        .map(|b| git_input::branch("productionBranch", b))
        .transpose()?;
    let slug = Slug::from_name(&name, "project");
    shipyard_core::HostLabel::new(&slug, &Slug::production())?;
    if let Some(runs) = req.runs_server
        && runs != req.project_type.runs_server()
    {
        return Err(ApiError::unprocessable(format!(
            "field `runsServer`: {} projects {} a server",
            req.project_type.as_str(),
            if req.project_type.runs_server() {
                "always run"
            } else {
                "never run"
            }
        )));
    }
    let conn = body_connection(&mut tx, &scope, &req.repository_connection_id).await?;
    drop(tx);
    let branch = branch.unwrap_or_else(|| conn.default_branch.clone());

    let (mut detection, _) = run(&state, &conn, &branch, "productionBranch", &root).await?;
    let (mut build, mut runtime) = from_detection(req.project_type, &mut detection, &root);
    let config = req.config.unwrap_or_default();
    if let Some(patch) = config.build {
        patch.apply(&mut build, req.project_type)?;
    }
    if let Some(patch) = config.runtime {
        patch.apply(&mut runtime, req.project_type)?;
    }
    let summary = DetectionSummary {
        project_type: detection.project_type,
        framework: detection.framework.clone(),
        evidence: detection.evidence.clone(),
        confidence: detection.confidence,
    };
    let new = NewProject {
        name: name.clone(),
        slug,
        description,
        project_type: req.project_type,
        connection_id: conn.id.clone(),
        build,
        runtime,
        detection: serde_json::to_string(&summary).ok(),
        production_branch: branch,
    };

    let mut tx = state.store.write().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let project = tx
        .create_project(&scope, &new)
        .await
        .map_err(|e| conflict(e, &format!("`{name}`")))?;
    let view = project_view(&state, &mut tx, &scope, project).await?;
    SqliteStore::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(view)))
}
