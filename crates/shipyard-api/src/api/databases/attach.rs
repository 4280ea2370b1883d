//! Attaching a database to a project (its builds and instances get the URL in a variable and
//! may reach the database) and detaching it. Either takes effect with the next deployment of
//! each environment it covers; `?redeploy=true` queues those deployments at once.

use super::view_in;
use crate::api::deployments::trigger::queue;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paths::DatabasePath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shipyard_api_types::databases::{AttachDatabaseRequest, AttachmentChange, DetachDatabaseRequest};
use shipyard_core::{DeploymentTrigger, EnvVarName, EnvironmentId, ProjectId, Role};
use shipyard_store::{
    Attachment, Attachments, Backend, Database, Environment, Environments, NewDeployment, Project, Projects, Secrets,
    SqliteStore, TenantScope, Tx,
};
use utoipa::IntoParams;

/// The variable an attachment fills when the request names none.
pub const DEFAULT_ENV_VAR: &str = "DATABASE_URL";

/// `?redeploy=true`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RedeployQuery {
    /// Queue a deployment of every environment the change covers, so it takes effect now.
    pub redeploy: Option<bool>,
}

/// The project and environments a request names: (project, the one environment, the
/// environments covered).
pub(super) async fn target(
    tx: &mut Tx,
    scope: &TenantScope,
    auth: &crate::auth::Auth,
    project_raw: &str,
    environment_raw: Option<&str>,
) -> ApiResult<(Project, Option<EnvironmentId>, Vec<Environment>)> {
    let unknown = |field: &str, raw: &str, what: &str| {
        ApiError::unprocessable(format!("field `{field}`: no {what} {raw} in this workspace"))
    };
    let project_id = ProjectId::parse(project_raw).map_err(|_| unknown("projectId", project_raw, "project"))?;
    let project = tx
        .project(scope, &project_id)
        .await?
        .ok_or_else(|| unknown("projectId", project_raw, "project"))?;
    // A project the caller's token does not reach is as unknown as another workspace's.
    auth.reach(&project.id, String::new)
        .map_err(|_| unknown("projectId", project_raw, "project"))?;
    let all = tx.environments(scope, &project.id).await?;
    let Some(raw) = environment_raw else {
        return Ok((project, None, all));
    };
    let env = EnvironmentId::parse(raw)
        .ok()
        .and_then(|id| all.into_iter().find(|e| e.id == id))
        .ok_or_else(|| unknown("environmentId", raw, &format!("environment of project {project_raw}")))?;
    Ok((project, Some(env.id.clone()), vec![env]))
}

/// Refuses a variable one of `covered` already gets: a secret's name, or another
/// attachment's variable (an attachment of `new`'s very target is the store's to refuse).
async fn check_free(
    tx: &mut Tx,
    scope: &TenantScope,
    project: &Project,
    covered: &[Environment],
    new: &Attachment,
) -> ApiResult<()> {
    let env_var = new.env_var.as_str();
    for env in covered {
        let secrets = tx.applicable_secrets(scope, &project.id, &env.id).await?;
        if let Some(secret) = secrets.iter().find(|s| s.name.as_str() == env_var) {
            return Err(ApiError::conflict(format!(
                "environment `{}` already gets secret {env_var} ({} scope, {}); choose another envVar",
                env.slug,
                secret.scope.as_str(),
                secret.secret_id
            )));
        }
    }
    let attached = tx.project_attachments(scope, &project.id).await?;
    if let Some(other) = attached
        .iter()
        .filter(|a| !(a.database_id == new.database_id && a.environment_id == new.environment_id))
        .find(|a| a.env_var == env_var && covered.iter().any(|e| a.covers(&e.id)))
    {
        return Err(ApiError::conflict(format!(
            "{env_var} already holds the URL of database {} in this project; choose another envVar",
            other.database_id
        )));
    }
    Ok(())
}

/// Queues a deployment of each of `covered` when asked; their ids.
pub(super) async fn redeploy(
    state: &AppState,
    tx: &mut Tx,
    scope: &TenantScope,
    project: &Project,
    covered: &[Environment],
    note: &str,
) -> ApiResult<Vec<String>> {
    let mut ids = Vec::with_capacity(covered.len());
    for env in covered {
        let new = NewDeployment {
            project_id: project.id.clone(),
            environment_id: env.id.clone(),
            branch: env.branch.clone(),
            commit_sha: None,
            commit_message: None,
            note: Some(note.to_owned()),
            trigger: DeploymentTrigger::Api,
            clear_cache: false,
            retry_of: None,
        };
        ids.push(queue(state, tx, scope, project, &new).await?.id.to_string());
    }
    Ok(ids)
}

/// What the response says of when the change applies.
fn takes_effect(redeployed: bool, what: &str) -> String {
    if redeployed {
        format!("{what} with the deployments queued now")
    } else {
        format!("{what} with the next deployment of each environment (or ask again with ?redeploy=true)")
    }
}

/// A write transaction, the caller's scope and the database, for a member or more.
async fn begin(state: &AppState, auth: &Auth, path: &DatabasePath) -> ApiResult<(Tx, TenantScope, Database)> {
    let mut tx = state.store.write().await?;
    let (scope, database) = path.load(auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    Ok((tx, scope, database))
}

/// The view after a change, and the response.
async fn answer(
    state: &AppState,
    mut tx: Tx,
    scope: &TenantScope,
    database: Database,
    deployments: Vec<String>,
    what: &str,
) -> ApiResult<Json<AttachmentChange>> {
    let view = view_in(&mut tx, scope, database, None).await?;
    SqliteStore::commit(tx).await?;
    if !deployments.is_empty() {
        state.jobs_queued.notify_one();
    }
    Ok(Json(AttachmentChange {
        database: view,
        takes_effect: takes_effect(!deployments.is_empty(), what),
        deployments,
    }))
}

/// Makes the database's URL available to a project's builds and instances.
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/attach", tag = "databases",
    request_body = AttachDatabaseRequest, params(DatabasePath, RedeployQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = AttachmentChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Attached there already, or the variable is taken by a secret or another database", body = ErrorBody),
    (status = 422, description = "No such project or environment in the workspace", body = ErrorBody),
    (status = 429, description = "Redeploy: daily deploy quota used up", body = ErrorBody)))]
pub async fn create_database_attach(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
    ApiQuery(query): ApiQuery<RedeployQuery>,
    body: JsonBody,
) -> ApiResult<Json<AttachmentChange>> {
    let (mut tx, scope, database) = begin(&state, &auth, &path).await?;
    let req: AttachDatabaseRequest = body.parse()?;
    let env_var = EnvVarName::parse(req.env_var.as_deref().unwrap_or(DEFAULT_ENV_VAR))
        .map_err(|e| ApiError::bad_request(format!("field `envVar`: {e}")))?;
    let (project, environment_id, covered) =
        target(&mut tx, &scope, &auth, &req.project_id, req.environment_id.as_deref()).await?;
    let attachment = Attachment {
        database_id: database.id.clone(),
        project_id: project.id.clone(),
        environment_id,
        env_var: env_var.as_str().to_owned(),
    };
    check_free(&mut tx, &scope, &project, &covered, &attachment).await?;
    tx.attach_database(&scope, &attachment).await?;
    let allow = attachment.clone();
    let deployments = if query.redeploy.unwrap_or(false) {
        let note = format!("database {} attached as {env_var}", database.name);
        redeploy(&state, &mut tx, &scope, &project, &covered, &note).await?
    } else {
        Vec::new()
    };
    let what = format!("{env_var} reaches project {}'s builds and instances", project.id);
    let answered = answer(&state, tx, &scope, database, deployments, &what).await?;
    if let Some(doors) = state.runtime.doors() {
        doors.allow(
            allow.database_id.as_str(),
            allow.project_id.as_str(),
            allow.environment_id.as_ref().map(EnvironmentId::as_str),
        );
    }
    Ok(answered)
}

/// Takes the database away from a project (or one environment of it).
#[utoipa::path(post, path = "/tenants/{tenantId}/databases/{databaseId}/detach", tag = "databases",
    request_body = DetachDatabaseRequest, params(DatabasePath, RedeployQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = AttachmentChange), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, description = "No such database, or not attached there", body = ErrorBody),
    (status = 422, description = "No such project or environment in the workspace", body = ErrorBody),
    (status = 429, description = "Redeploy: daily deploy quota used up", body = ErrorBody)))]
pub async fn create_database_detach(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<DatabasePath>,
    ApiQuery(query): ApiQuery<RedeployQuery>,
    body: JsonBody,
) -> ApiResult<Json<AttachmentChange>> {
    let (mut tx, scope, database) = begin(&state, &auth, &path).await?;
    let req: DetachDatabaseRequest = body.parse()?;
    let (project, environment_id, covered) =
        target(&mut tx, &scope, &auth, &req.project_id, req.environment_id.as_deref()).await?;
    let detached = tx
        .detach_database(&scope, &database.id, &project.id, environment_id.as_ref())
        .await?;
    if !detached {
        let where_ = environment_id.map_or_else(
            || format!("project {} (all environments)", project.id),
            |e| format!("environment {e} of project {}", project.id),
        );
        return Err(ApiError::not_found(format!(
            "database {} is not attached to {where_}",
            database.id
        )));
    }
    let deployments = if query.redeploy.unwrap_or(false) {
        let note = format!("database {} detached", database.name);
        redeploy(&state, &mut tx, &scope, &project, &covered, &note).await?
    } else {
        Vec::new()
    };
    let what = format!(
        "project {}'s sandboxes could no longer reach the database from the moment it was detached; they lose its URL",
        project.id
    );
    let (database_id, project_id) = (database.id.to_string(), project.id.to_string());
    let answered = answer(&state, tx, &scope, database, deployments, &what).await?;
    // Committed: running instances and builds of what is no longer covered lose their way now.
    if let Some(doors) = state.runtime.doors() {
        doors.revoke(
            &database_id,
            &project_id,
            environment_id.as_ref().map(EnvironmentId::as_str),
        );
    }
    Ok(answered)
}
