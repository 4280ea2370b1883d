//! Personal access tokens (`/account/api-tokens`): session only, shown once, stored hashed.

use crate::api::views::display_name;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use shipyard_core::{OpaqueToken, TokenId};
use shipyard_store::{ApiToken, ApiTokens, Backend, SqliteStore};
use utoipa::ToSchema;

const SESSION_ONLY: &str = "API token routes";

/// A token as listed: never the token itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    /// `tok_…`
    pub id: String,
    /// Your label for it.
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    #[schema(example = "shpat_3f9a0c1b")]
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working (null: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use, to the minute (null: never used).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// `POST /account/api-tokens`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// A label, e.g. `ci`.
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Lifetime in days, 1 to 3650 (default: no expiry).
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// The answer to creating a token: the only time `token` is shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    /// `tok_…`
    pub id: String,
    /// Your label.
    pub name: String,
    /// The bearer token: `Authorization: Bearer shpat_…`. Store it now; it is never shown again.
    pub token: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
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
    Ok(Json(List::from_page(paged, page, TokenView::from)))
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
    let token = OpaqueToken::generate("shpat_");
    let prefix = token.display_prefix();
    let mut tx = state.store.write().await?;
    let made = tx
        .create_token(&auth.user.id, &name, &prefix, &token.hash, expires_at)
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
