//! Secrets: write-only values, encrypted at rest, scoped to the workspace, a project or an
//! environment, versioned on every change. No response ever carries a value.

use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery, filter, list_of};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
pub use shipyard_api_types::secrets::{CreateSecretRequest, SecretView, UpdateSecretRequest};
use shipyard_core::ExposeSecret;
use shipyard_core::secret_rules::{check_secret_name, check_secret_value};
use shipyard_core::{EnvVarName, EnvironmentId, ProjectId, Role, SecretId, SecretScope};
use shipyard_store::secrets::secret_aad;
use shipyard_store::{
    Backend, Environments, NewSecret, Projects, Secret, SecretFilter, Secrets, SqliteStore, StoreError, TenantScope, Tx,
};
use utoipa::IntoParams;

/// Largest value accepted: a certificate chain or a service-account JSON fits easily.
const MAX_VALUE_CHARS: usize = 64 * 1024;

/// The API's view of a stored secret.
pub fn secret_view(s: Secret) -> SecretView {
    SecretView {
        id: s.id.to_string(),
        name: s.name.to_string(),
        scope: s.scope,
        project_id: s.project_id.map(|p| p.to_string()),
        environment_id: s.environment_id.map(|e| e.to_string()),
        version: s.version,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// Filters of the secret list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct SecretQuery {
    /// workspace, project or environment.
    #[param(value_type = Option<SecretScope>)]
    pub scope: Option<String>,
    /// `prj_…`
    pub project_id: Option<String>,
    /// `env_…`
    pub environment_id: Option<String>,
}

fn value(raw: &shipyard_api_types::Secret) -> ApiResult<&str> {
    let raw = raw.expose_secret();
    if raw.is_empty() || raw.chars().count() > MAX_VALUE_CHARS || raw.contains('\0') {
        return Err(ApiError::bad_request(
            "field `value` must be 1 to 65536 characters of text without NUL characters",
        ));
    }
    Ok(raw)
}

/// Whether the caller's token reaches a secret of `project` (None: the workspace's, which a
/// token limited to some projects may not change): `hidden` when the project is not its.
fn reached(auth: &Auth, project: Option<&ProjectId>, hidden: impl FnOnce() -> ApiError) -> ApiResult<()> {
    match project {
        Some(project) => auth.reach(project, String::new).map_err(|_| hidden()),
        None if auth.only_projects().is_some() => Err(ApiError::forbidden(
            "this token is limited to some projects; workspace secrets belong to the whole workspace",
        )),
        None => Ok(()),
    }
}

/// Where a new secret applies, checked against the workspace: (project, environment, target).
async fn target(
    tx: &mut Tx,
    scope: &TenantScope,
    auth: &Auth,
    req: &CreateSecretRequest,
) -> ApiResult<(Option<ProjectId>, Option<EnvironmentId>, String)> {
    let unknown = |field: &str, raw: &str, what: &str| {
        ApiError::unprocessable(format!("field `{field}`: no {what} {raw} in this workspace"))
    };
    let forbidden = |field: &str| {
        ApiError::bad_request(format!(
            "field `{field}` does not apply to scope `{}`",
            req.scope.as_str()
        ))
    };
    let required = |field: &str| {
        ApiError::bad_request(format!(
            "field `{field}` is required for scope `{}`",
            req.scope.as_str()
        ))
    };
    match req.scope {
        SecretScope::Workspace => {
            if req.project_id.is_some() {
                return Err(forbidden("projectId"));
            }
            if req.environment_id.is_some() {
                return Err(forbidden("environmentId"));
            }
            Ok((None, None, String::new()))
        }
        SecretScope::Project => {
            if req.environment_id.is_some() {
                return Err(forbidden("environmentId"));
            }
            let raw = req.project_id.as_deref().ok_or_else(|| required("projectId"))?;
            let id = ProjectId::parse(raw).map_err(|_| unknown("projectId", raw, "project"))?;
            tx.project(scope, &id)
                .await?
                .ok_or_else(|| unknown("projectId", raw, "project"))?;
            auth.reach(&id, String::new)
                .map_err(|_| unknown("projectId", raw, "project"))?;
            Ok((Some(id.clone()), None, id.to_string()))
        }
        SecretScope::Environment => {
            let raw = req.environment_id.as_deref().ok_or_else(|| required("environmentId"))?;
            let id = EnvironmentId::parse(raw).map_err(|_| unknown("environmentId", raw, "environment"))?;
            let env = tx
                .environment(scope, &id)
                .await?
                .ok_or_else(|| unknown("environmentId", raw, "environment"))?;
            // Before the project is compared: the answer must not name a project it cannot see.
            auth.reach(&env.project_id, String::new)
                .map_err(|_| unknown("environmentId", raw, "environment"))?;
            if let Some(project) = &req.project_id
                && project != env.project_id.as_str()
            {
                return Err(ApiError::unprocessable(format!(
                    "field `projectId`: environment {raw} belongs to project {}, not {project}",
                    env.project_id
                )));
            }
            Ok((Some(env.project_id), Some(id.clone()), id.to_string()))
        }
    }
}

async fn find(tx: &mut Tx, scope: &TenantScope, raw: &str) -> ApiResult<Secret> {
    let not_found = || ApiError::not_found(format!("secret {raw} not found"));
    let id = SecretId::parse(raw).map_err(|_| not_found())?;
    tx.secret(scope, &id).await?.ok_or_else(not_found)
}

fn target_of(secret: &Secret) -> String {
    match (&secret.environment_id, &secret.project_id) {
        (Some(env), _) => env.to_string(),
        (None, Some(project)) => project.to_string(),
        (None, None) => String::new(),
    }
}

/// The workspace's secrets (names and versions only), filtered by scope and target.
#[utoipa::path(get, path = "/tenants/{tenantId}/secrets", tag = "secrets",
    params(TenantPath, SecretQuery, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = List<SecretView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn list_secrets(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    ApiQuery(query): ApiQuery<SecretQuery>,
    ApiQuery(paging): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<SecretView>>> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    let page = paging.page()?;
    let filter = SecretFilter {
        scope: filter("scope", query.scope.as_deref(), SecretScope::parse)?,
        project_id: filter("projectId", query.project_id.as_deref(), |p| ProjectId::parse(p).ok())?,
        environment_id: filter("environmentId", query.environment_id.as_deref(), |e| {
            EnvironmentId::parse(e).ok()
        })?,
        only_projects: auth.only_projects(),
    };
    let paged = tx.list_secrets(&scope, &filter, page).await?;
    Ok(Json(list_of(paged, page, secret_view)))
}

/// Stores a secret (version 1). Builds and instances get the merged set: environment over
/// project over workspace.
#[utoipa::path(post, path = "/tenants/{tenantId}/secrets", tag = "secrets", request_body = CreateSecretRequest,
    params(TenantPath), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = SecretView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Name taken in that scope", body = ErrorBody),
    (status = 422, description = "Unknown project or environment", body = ErrorBody)))]
pub async fn create_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<SecretView>)> {
    let mut tx = state.store.write().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let req: CreateSecretRequest = body.parse()?;
    let name = EnvVarName::parse(&req.name)
        .and_then(|n| check_secret_name(n.as_str()).map(|()| n))
        .map_err(|e| ApiError::bad_request(format!("field `name`: {e}")))?;
    let plain = value(&req.value)?;
    check_secret_value(name.as_str(), plain).map_err(|e| ApiError::bad_request(format!("field `value`: {e}")))?;
    let (project_id, environment_id, target) = target(&mut tx, &scope, &auth, &req).await?;
    // Project references were checked in `target`; a workspace secret is the whole workspace's.
    if project_id.is_none() {
        reached(&auth, None, || ApiError::not_found("secret"))?;
    }
    let aad = secret_aad(scope.tenant_id(), req.scope, &target, name.as_str());
    let new = NewSecret {
        name: name.clone(),
        scope: req.scope,
        project_id,
        environment_id,
        sealed: state.secret_box.seal(plain.as_bytes(), &aad),
    };
    let made = tx.create_secret(&scope, &new).await.map_err(|e| match e {
        StoreError::Conflict(shipyard_store::Constraint::SecretName) => ApiError::conflict(format!(
            "a secret named {name} already exists in this {} scope",
            req.scope.as_str()
        )),
        other => other.into(),
    })?;
    SqliteStore::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(secret_view(made))))
}

/// Replaces a secret's value; the old version stays for releases that used it.
#[utoipa::path(patch, path = "/tenants/{tenantId}/secrets/{secretId}", tag = "secrets", request_body = UpdateSecretRequest,
    params(("tenantId" = String, Path, description = "`ten_…`"), ("secretId" = String, Path, description = "`sec_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = SecretView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, secret_id)): ApiPath<(String, String)>,
    body: JsonBody,
) -> ApiResult<Json<SecretView>> {
    let mut tx = state.store.write().await?;
    let scope = auth.workspace(&mut tx, &tenant_id).await?;
    let secret = find(&mut tx, &scope, &secret_id).await?;
    reached(&auth, secret.project_id.as_ref(), || {
        ApiError::not_found(format!("secret {secret_id} not found"))
    })?;
    auth.admit()?;
    require_write(&scope, Role::Member)?;
    let req: UpdateSecretRequest = body.parse()?;
    let plain = value(&req.value)?;
    check_secret_value(secret.name.as_str(), plain)
        .map_err(|e| ApiError::bad_request(format!("field `value`: {e}")))?;
    let aad = secret_aad(
        scope.tenant_id(),
        secret.scope,
        &target_of(&secret),
        secret.name.as_str(),
    );
    let updated = tx
        .add_secret_version(&scope, &secret.id, &state.secret_box.seal(plain.as_bytes(), &aad))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("secret {secret_id} not found")))?;
    SqliteStore::commit(tx).await?;
    Ok(Json(secret_view(updated)))
}

/// Deletes a secret. Versions that a kept release uses stay sealed, so a rollback restores
/// exactly those values; the name is free again at once.
#[utoipa::path(delete, path = "/tenants/{tenantId}/secrets/{secretId}", tag = "secrets",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("secretId" = String, Path, description = "`sec_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody)))]
pub async fn delete_secret(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, secret_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    let scope = auth.workspace(&mut tx, &tenant_id).await?;
    let secret = find(&mut tx, &scope, &secret_id).await?;
    reached(&auth, secret.project_id.as_ref(), || {
        ApiError::not_found(format!("secret {secret_id} not found"))
    })?;
    auth.admit()?;
    require_write(&scope, Role::Member)?;
    tx.delete_secret(&scope, &secret.id).await?;
    SqliteStore::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
