//! Who is calling: a bearer token or a session cookie resolves to an `Auth`, and `Auth` opens
//! workspaces (`TenantScope`) and the admin area (`AdminScope`) only where the store agrees.

mod cookie;
mod origin;
mod route_table;
mod scope;
mod token_scopes;

pub use cookie::{SECURE_SESSION_COOKIE, SESSION_COOKIE, SESSION_DAYS, Transport};
pub use origin::{SameOrigin, check as check_origin};
pub use scope::require_write;
pub use token_scopes::{ROUTES as TOKEN_SCOPES, TokenGrant, document as document_token_scopes};

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{Duration, Utc};
pub use shipyard_api_types::account::AuthMethod;
use shipyard_core::OpaqueToken;
use shipyard_store::{ApiTokens, Backend, Sessions, SqliteStore, User};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    /// The user acting.
    pub user: User,
    /// How they proved it.
    pub method: AuthMethod,
    /// With a token: what it may do, and what this request needs.
    pub token: Option<TokenGrant>,
}

impl Auth {
    /// 403 unless the caller used a session (token management and admin routes).
    pub fn require_session(&self, what: &str) -> Result<(), ApiError> {
        match self.method {
            AuthMethod::Session => Ok(()),
            AuthMethod::Token => Err(ApiError::forbidden(format!(
                "{what} need a browser session; an API token cannot use them"
            ))),
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(AUTHORIZATION) {
            let token = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
                .map(|v| v.trim().to_owned())
                .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer shpat_…`"))?;
            let route = parts
                .extensions
                .get::<axum::extract::MatchedPath>()
                .map_or_else(|| parts.uri.path().to_owned(), |m| m.as_str().to_owned());
            let (needs, reach) = token_scopes::needed(&parts.method, &route);
            let ip = crate::client_addr::ClientAddr::from_request_parts(parts, state)
                .await?
                .0
                .map(|ip| ip.to_string());
            let mut auth = token_auth(&state.store, &token, ip.as_deref()).await?;
            if let Some(grant) = auth.token.as_mut() {
                grant.needs = needs;
                grant.reach = reach;
                grant.route = format!("{} {route}", parts.method);
            }
            // Outside a workspace there is no object to find first: checked here, so a route
            // added there later cannot skip its scope.
            if !route.starts_with("/tenants/") {
                auth.admit()?;
            }
            return Ok(auth);
        }
        if let Some(session) = Transport::of(parts).session_value(&parts.headers) {
            let auth = session_auth(&state.store, &session).await?;
            origin::check(parts, &state.settings.platform_host)?;
            return Ok(auth);
        }
        Err(ApiError::unauthorized(
            "authentication required: send `Authorization: Bearer shpat_…` or log in with POST /auth/login",
        ))
    }
}

async fn token_auth(store: &SqliteStore, token: &str, ip: Option<&str>) -> Result<Auth, ApiError> {
    let now = Utc::now();
    let hash = OpaqueToken::hash_of(token);
    let mut tx = store.read().await?;
    let found = tx.token_user(&hash, now).await?;
    drop(tx);
    let (user, token) = found.ok_or_else(|| ApiError::unauthorized("the API token is invalid, expired or revoked"))?;
    // A use from another address is recorded at once: the list must show where a stolen
    // token was used from, not only its owner's first request of the minute.
    let stale = token.last_used_at.is_none_or(|at| now - at > Duration::minutes(1));
    if stale || token.last_used_ip.as_deref() != ip {
        let mut tx = store.write().await?;
        tx.touch_token(&token.id, now, ip).await?;
        SqliteStore::commit(tx).await?;
    }
    Ok(Auth {
        user,
        method: AuthMethod::Token,
        token: Some(TokenGrant {
            id: token.id.to_string(),
            grant: token.grant(),
            scopes: token.scopes,
            name: token.name,
            needs: shipyard_core::TokenScope::Write,
            reach: token_scopes::Reach::Workspace,
            projects: token.project_ids,
            route: String::new(),
        }),
    })
}

async fn session_auth(store: &SqliteStore, session: &str) -> Result<Auth, ApiError> {
    let mut tx = store.read().await?;
    let user = tx
        .session_user(&OpaqueToken::hash_of(session), Utc::now())
        .await?
        .ok_or_else(|| ApiError::unauthorized("the session has expired or was ended; log in again"))?;
    Ok(Auth {
        user,
        method: AuthMethod::Session,
        token: None,
    })
}
