//! Repository connections: a git URL plus optional credentials, checked with a real
//! `ls-remote` before they are stored (sealed) and never shown again.

use crate::api::git_input::{self, git_error, open_auth};
use crate::api::views::display_name;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery, list_of};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::connections::{AuthRequest, ConnectionView, CreateConnectionRequest, Provider};
use shipyard_build::{Branch, GitAuth};
use shipyard_core::ExposeSecret;
use shipyard_core::{ConnectionId, GitTransport, GitUrl, OpaqueToken, Role};
use shipyard_store::secrets::credential_aad;
use shipyard_store::{Backend, Connection, Connections, NewConnection, Paged, SqliteStore, TenantScope, Tx};

/// The API's view of a stored connection.
pub fn connection_view(c: Connection) -> ConnectionView {
    ConnectionView {
        id: c.id.to_string(),
        tenant_id: c.tenant_id.to_string(),
        name: c.name,
        provider: Provider::Git,
        url: c.url.as_str().to_owned(),
        default_branch: c.default_branch,
        auth_type: c.auth_kind,
        created_at: c.created_at,
        webhook_secret: None,
    }
}

/// Checks a `file://` URL against the server's policy.
fn check_local(state: &AppState, url: &GitUrl) -> ApiResult<()> {
    let Some(path) = url.file_path() else { return Ok(()) };
    if !state.settings.allow_local_repos {
        return Err(ApiError::unprocessable(
            "field `url`: local repositories are disabled on this server (--allow-local-repos=false)",
        ));
    }
    let resolved = std::fs::canonicalize(path)
        .map_err(|e| ApiError::unprocessable(format!("field `url`: {path} cannot be opened: {e}")))?;
    if let Some(root) = &state.settings.local_repos_root
        && !resolved.starts_with(root)
    {
        return Err(ApiError::unprocessable(format!(
            "field `url`: local repositories on this server must lie below {} (--local-repos-root)",
            root.display()
        )));
    }
    // The work root holds other projects' build workspaces: as private as the data directory.
    if state
        .settings
        .layout
        .private_roots()
        .iter()
        .any(|root| resolved.starts_with(root))
    {
        return Err(ApiError::unprocessable(
            "field `url`: a repository inside Shipyard's data directory or work root is not allowed",
        ));
    }
    Ok(())
}

fn auth_from(req: Option<AuthRequest>, url: &GitUrl) -> ApiResult<GitAuth> {
    let auth = match req {
        None => return Ok(GitAuth::None),
        Some(AuthRequest::Token { token }) if !token.expose_secret().trim().is_empty() => {
            GitAuth::Token(token.expose_secret().trim().to_owned())
        }
        Some(AuthRequest::SshKey { private_key }) if private_key.expose_secret().contains("PRIVATE KEY") => {
            GitAuth::SshKey(private_key.expose_secret().to_owned())
        }
        Some(AuthRequest::Token { .. }) => return Err(ApiError::bad_request("field `auth.token` must not be empty")),
        Some(AuthRequest::SshKey { .. }) => {
            return Err(ApiError::bad_request(
                "field `auth.privateKey` must be a PEM or OpenSSH private key",
            ));
        }
    };
    match (&auth, url.transport()) {
        (GitAuth::Token(_), GitTransport::Http) | (GitAuth::SshKey(_), GitTransport::Ssh) => Ok(auth),
        (GitAuth::Token(_), _) => Err(ApiError::unprocessable(
            "field `auth`: a token authenticates https URLs only",
        )),
        _ => Err(ApiError::unprocessable(
            "field `auth`: an ssh key authenticates ssh URLs only",
        )),
    }
}

async fn find(tx: &mut Tx, scope: &TenantScope, raw: &str) -> ApiResult<Connection> {
    let not_found = || ApiError::not_found(format!("repository connection {raw} not found"));
    let id = ConnectionId::parse(raw).map_err(|_| not_found())?;
    tx.connection(scope, &id).await?.ok_or_else(not_found)
}

/// The workspace's repository connections.
#[utoipa::path(get, path = "/tenants/{tenantId}/repository-connections", tag = "repositories",
    params(TenantPath, PageQuery), security(("bearer" = []), ("session" = [])),
    responses((status = 400, description = "A bad query parameter (page, perPage)", body = ErrorBody), (status = 200, body = List<ConnectionView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_repository_connections(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<ConnectionView>>> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    let page = query.page()?;
    let paged = tx.list_connections(&scope, page).await?;
    Ok(Json(list_of(paged, page, connection_view)))
}

/// Connects a repository after proving it can be read (`git ls-remote`).
#[utoipa::path(post, path = "/tenants/{tenantId}/repository-connections", tag = "repositories",
    request_body = CreateConnectionRequest, params(TenantPath),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = ConnectionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 422, description = "The repository cannot be read; git's reason is in the message", body = ErrorBody)))]
pub async fn create_repository_connection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<ConnectionView>)> {
    {
        let mut tx = state.store.read().await?;
        require_write(&path.load(&auth, &mut tx).await?, Role::Member)?;
    }
    let req: CreateConnectionRequest = body.parse()?;
    let Provider::Git = req.provider;
    let url = GitUrl::parse(&req.url).map_err(|e| ApiError::bad_request(format!("field `url`: {e}")))?;
    let name = match &req.name {
        Some(name) => display_name(name, "name")?,
        None => display_name(&url.repo_name(), "name").unwrap_or_else(|_| "repository".to_owned()),
    };
    let wanted_branch = req
        .default_branch
        .as_deref()
        .map(|b| git_input::branch("defaultBranch", b))
        .transpose()?;
    let git_auth = auth_from(req.auth, &url)?;
    check_local(&state, &url)?;

    let id = ConnectionId::generate();
    let refs = match state.repos.list_remote(&id, &url, &git_auth).await {
        Ok(refs) => refs,
        Err(e) => {
            let _ = state.repos.forget(&id);
            return Err(git_error("url", e));
        }
    };
    let default_branch = match wanted_branch {
        Some(branch) if refs.branches.is_empty() || refs.has_branch(&branch) => branch,
        Some(branch) => {
            let _ = state.repos.forget(&id);
            let known: Vec<_> = refs.branches.iter().map(|b| b.name.as_str()).collect();
            return Err(ApiError::unprocessable(format!(
                "field `defaultBranch`: the repository has no branch `{branch}`; it has: {}",
                known.join(", ")
            )));
        }
        None => refs
            .head
            .clone()
            .or_else(|| refs.branches.first().map(|b| b.name.clone()))
            .unwrap_or_else(|| "main".into()),
    };

    let mut tx = state.store.write().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Member)?;
    let webhook_secret = OpaqueToken::generate("whsec_").plain;
    let auth_sealed = match &git_auth {
        GitAuth::None => None,
        GitAuth::Token(secret) | GitAuth::SshKey(secret) => Some(state.secret_box.seal(
            secret.as_bytes(),
            &credential_aad(scope.tenant_id(), &id, git_auth.kind()),
        )),
    };
    let new = NewConnection {
        id: id.clone(),
        name,
        url,
        default_branch,
        auth_kind: git_auth.kind(),
        auth_sealed,
        webhook_secret_sealed: state.secret_box.seal(
            webhook_secret.as_bytes(),
            &credential_aad(scope.tenant_id(), &id, "webhook"),
        ),
    };
    let made = tx.create_connection(&scope, &new).await?;
    SqliteStore::commit(tx).await?;
    let mut view = connection_view(made);
    view.webhook_secret = Some(webhook_secret);
    Ok((StatusCode::CREATED, Json(view)))
}

/// One repository connection.
#[utoipa::path(get, path = "/tenants/{tenantId}/repository-connections/{connectionId}", tag = "repositories",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("connectionId" = String, Path, description = "`rc_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ConnectionView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_repository_connection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, connection_id)): ApiPath<(String, String)>,
) -> ApiResult<Json<ConnectionView>> {
    let mut tx = state.store.read().await?;
    let scope = auth.tenant(&mut tx, &tenant_id).await?;
    Ok(Json(connection_view(find(&mut tx, &scope, &connection_id).await?)))
}

/// Deletes a connection and its mirror; 409 while a project builds from it.
#[utoipa::path(delete, path = "/tenants/{tenantId}/repository-connections/{connectionId}", tag = "repositories",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("connectionId" = String, Path, description = "`rc_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "Used by a project", body = ErrorBody)))]
pub async fn delete_repository_connection(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, connection_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    let scope = auth.workspace(&mut tx, &tenant_id).await?;
    let conn = find(&mut tx, &scope, &connection_id).await?;
    auth.admit()?;
    require_write(&scope, Role::Member)?;
    let used = tx.connection_usage(&scope, &conn.id).await?;
    if used > 0 {
        return Err(ApiError::conflict(format!(
            "repository connection {connection_id} is used by {used} project(s); delete them first"
        )));
    }
    tx.delete_connection(&scope, &conn.id).await?;
    SqliteStore::commit(tx).await?;
    if let Err(e) = state.repos.forget(&conn.id) {
        tracing::warn!(connection = %conn.id, error = %e, "could not remove the mirror of a deleted connection");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The repository's branches, read live from the remote.
#[utoipa::path(get, path = "/tenants/{tenantId}/repository-connections/{connectionId}/branches", tag = "repositories",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("connectionId" = String, Path, description = "`rc_…`"), PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 400, description = "A bad query parameter (page, perPage)", body = ErrorBody), (status = 200, body = List<Branch>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 422, description = "The repository cannot be read", body = ErrorBody)))]
pub async fn list_repository_branches(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, connection_id)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<Branch>>> {
    let conn = {
        let mut tx = state.store.read().await?;
        let scope = auth.tenant(&mut tx, &tenant_id).await?;
        find(&mut tx, &scope, &connection_id).await?
    };
    let page = query.page()?;
    let git_auth = open_auth(&state, &conn)?;
    let refs = state
        .repos
        .list_remote(&conn.id, &conn.url, &git_auth)
        .await
        .map_err(|e| git_error("url", e))?;
    let total = refs.branches.len() as i64;
    let items = refs
        .branches
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.per_page as usize)
        .collect();
    Ok(Json(list_of(Paged { items, total }, page, |b| b)))
}
