//! Personal access tokens (`/account/api-tokens`): session only, shown once, stored hashed.

use crate::api::views::display_name;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery, list_of};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{Duration, Utc};
pub use shipyard_api_types::account::{CreateTokenRequest, CreatedToken, TokenView};
use shipyard_core::{OpaqueToken, ProjectId, TokenId, TokenScope};
use shipyard_store::{ApiToken, ApiTokens, Backend, NewToken, Projects, SqliteStore, Tenants};

const SESSION_ONLY: &str = "API token routes";

/// The API's view of a stored apitoken.
pub fn token_view(t: ApiToken) -> TokenView {
    TokenView {
        id: t.id.to_string(),
        name: t.name,
        prefix: t.prefix,
        created_at: t.created_at,
        expires_at: t.expires_at,
        last_used_at: t.last_used_at,
        last_used_ip: t.last_used_ip,
        scopes: t.scopes,
        project_ids: ids_view(t.project_ids),
    }
}

fn ids_view(ids: Option<Vec<ProjectId>>) -> Option<Vec<String>> {
    ids.map(|ids| ids.into_iter().map(|p| p.to_string()).collect())
}

/// The projects `raw` names, each one of the caller's workspaces' (422 naming the first that
/// is not); 1 to 100 of them.
async fn own_projects(state: &AppState, auth: &Auth, raw: &[String]) -> ApiResult<Vec<ProjectId>> {
    if raw.is_empty() || raw.len() > 100 {
        return Err(ApiError::bad_request("field `projectIds` must name 1 to 100 projects"));
    }
    let mut tx = state.store.read().await?;
    let mut scopes = Vec::new();
    for m in tx.memberships(&auth.user.id).await? {
        scopes.extend(tx.tenant_scope(&auth.user.id, &m.tenant_id).await?);
    }
    let mut ids = Vec::with_capacity(raw.len());
    for text in raw {
        let unknown = || ApiError::unprocessable(format!("field `projectIds`: no project {text} in your workspaces"));
        let id = ProjectId::parse(text).map_err(|_| unknown())?;
        let mut found = false;
        for scope in &scopes {
            if tx.project(scope, &id).await?.is_some() {
                found = true;
                break;
            }
        }
        if !found {
            return Err(unknown());
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Your tokens, newest first.
#[utoipa::path(get, path = "/account/api-tokens", tag = "account", params(PageQuery),
    security(("session" = [])), responses((status = 400, description = "A bad query parameter (page, perPage)", body = ErrorBody), (status = 200, body = List<TokenView>),
    (status = 401, body = ErrorBody), (status = 403, description = "Called with a token", body = ErrorBody)))]
pub async fn list_api_tokens(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<TokenView>>> {
    auth.require_session(SESSION_ONLY)?;
    let page = query.page()?;
    let paged = state.store.read().await?.list_tokens(&auth.user.id, page).await?;
    Ok(Json(list_of(paged, page, token_view)))
}

/// Makes a token that acts as you in your workspaces (never in `/admin`).
#[utoipa::path(post, path = "/account/api-tokens", tag = "account", request_body = CreateTokenRequest,
    security(("session" = [])), responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody), (status = 403, description = "Called with a token", body = ErrorBody)))]
pub async fn create_api_token(
    State(state): State<AppState>,
    auth: Auth,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    auth.require_session(SESSION_ONLY)?;
    let req: CreateTokenRequest = body.parse()?;
    let name = display_name(&req.name, "name")?;
    let expires_at = match req.expires_in_days {
        Some(days @ 1..=3650) => Some(Utc::now() + Duration::days(i64::from(days))),
        Some(_) => {
            return Err(ApiError::bad_request(
                "field `expiresInDays` must be between 1 and 3650",
            ));
        }
        None => None,
    };
    let mut scopes = req.scopes.unwrap_or_else(|| vec![TokenScope::Write]);
    if scopes.is_empty() {
        return Err(ApiError::bad_request(
            "field `scopes` must name at least one of read, deploy, write (or be left out for write)",
        ));
    }
    scopes.sort();
    scopes.dedup();
    let projects = match req.project_ids {
        Some(ids) => Some(own_projects(&state, &auth, &ids).await?),
        None => None,
    };
    let token = OpaqueToken::generate("shpat_");
    let prefix = token.display_prefix();
    let mut tx = state.store.write().await?;
    let made = tx
        .create_token(
            &auth.user.id,
            &NewToken {
                name: &name,
                prefix: &prefix,
                token_hash: &token.hash,
                expires_at,
                scopes: &scopes,
                projects: projects.as_deref(),
            },
        )
        .await?;
    SqliteStore::commit(tx).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: made.id.to_string(),
            name: made.name,
            token: token.plain,
            prefix: made.prefix,
            created_at: made.created_at,
            expires_at: made.expires_at,
            scopes: made.scopes,
            project_ids: ids_view(made.project_ids),
        }),
    ))
}

/// Revokes one of your tokens at once.
#[utoipa::path(delete, path = "/account/api-tokens/{tokenId}", tag = "account",
    params(("tokenId" = String, Path, description = "`tok_…`")), security(("session" = [])),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_api_token(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(token_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    auth.require_session(SESSION_ONLY)?;
    let not_found = || ApiError::not_found(format!("API token {token_id} not found"));
    let id = TokenId::parse(&token_id).map_err(|_| not_found())?;
    let mut tx = state.store.write().await?;
    if !tx.delete_token(&auth.user.id, &id).await? {
        return Err(not_found());
    }
    SqliteStore::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
