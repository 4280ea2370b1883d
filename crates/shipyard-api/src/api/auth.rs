//! Signup, login, logout and `/auth/me`.

use crate::api::input;
use crate::api::views::{display_name, membership_view, user_view};
use crate::auth::{Auth, AuthMethod, SameOrigin, TokenGrant, Transport};
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
pub use shipyard_api_types::account::{LoginRequest, MeResponse, MeToken, SignupRequest};
use shipyard_core::ExposeSecret;
use shipyard_core::{Email, OpaqueToken, Password};
use shipyard_store::{Backend, NewUser, Sessions, SqliteStore, Tenants, Tx, User, Users};

async fn me(tx: &mut Tx, user: User, method: AuthMethod, token: Option<&TokenGrant>) -> ApiResult<MeResponse> {
    let memberships = tx
        .memberships(&user.id)
        .await?
        .into_iter()
        .map(membership_view)
        .collect();
    Ok(MeResponse {
        user: user_view(user),
        memberships,
        auth_method: method,
        token: token.map(|t| MeToken {
            id: t.id.clone(),
            name: t.name.clone(),
            scopes: t.scopes.clone(),
            project_ids: t
                .projects
                .as_ref()
                .map(|ids| ids.iter().map(ToString::to_string).collect()),
        }),
    })
}

/// Starts a session for `user` and answers with `body_status`, the cookie and `/auth/me`.
async fn start_session(mut tx: Tx, user: User, status: StatusCode, transport: Transport) -> ApiResult<Response> {
    let session = OpaqueToken::generate("");
    let expires = Utc::now() + Duration::days(crate::auth::SESSION_DAYS);
    tx.create_session(&user.id, &session.hash, expires).await?;
    let body = me(&mut tx, user, AuthMethod::Session, None).await?;
    SqliteStore::commit(tx).await?;
    Ok((
        status,
        [(header::SET_COOKIE, transport.session_cookie(&session.plain))],
        Json(body),
    )
        .into_response())
}

fn closed() -> ApiError {
    ApiError::forbidden("signup is closed on this server; a platform admin can create your account (POST /admin/users)")
}

/// Creates an account, its first workspace and a session. Open while the install has no
/// user (that first user becomes platform admin), later only with `--allow-signup`.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest, responses(
    (status = 201, description = "Account made; the session cookie is set", body = MeResponse),
    (status = 400, body = ErrorBody), (status = 403, description = "Signup is closed", body = ErrorBody),
    (status = 409, description = "Email taken", body = ErrorBody)))]
pub async fn create_signup(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    transport: Transport,
    body: JsonBody,
) -> ApiResult<Response> {
    let allow_signup = state.settings.allow_signup;
    if !allow_signup && state.store.read().await?.count_users().await? > 0 {
        return Err(closed());
    }
    let req: SignupRequest = body.parse()?;
    let email = input::email(&req.email)?;
    let password = input::password(&req.password)?;
    let name = input::name_or_default(req.name.as_deref(), &email)?;
    let workspace = match &req.workspace_name {
        Some(ws) => display_name(ws, "workspaceName")?,
        None => name.clone(),
    };
    let hash = input::hash(password).await?;

    let mut tx = state.store.write().await?;
    // Checked again under the write lock: two racing first signups must not both be admin.
    let first = tx.count_users().await? == 0;
    if !first && !allow_signup {
        return Err(closed());
    }
    let new = NewUser {
        email,
        name,
        password_hash: Some(hash),
        is_platform_admin: first,
    };
    let user = tx.create_user(&new).await?;
    tx.create_tenant(&workspace, &user.id).await?;
    start_session(tx, user, StatusCode::CREATED, transport).await
}

/// Logs in with email and password and sets the session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Logged in; the session cookie is set", body = MeResponse),
    (status = 400, body = ErrorBody), (status = 401, description = "Wrong email or password", body = ErrorBody),
    (status = 403, description = "Sent from a foreign page (Origin)", body = ErrorBody),
    (status = 429, description = "Too many attempts; see Retry-After", body = ErrorBody)))]
pub async fn create_login(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    transport: Transport,
    ClientAddr(client): ClientAddr,
    body: JsonBody,
) -> ApiResult<Response> {
    let req: LoginRequest = body.parse()?;
    let email = Email::parse(&req.email).ok();
    state.login_limiter.check(email.as_ref(), client)?;
    let wrong = || ApiError::unauthorized("email or password is incorrect");
    // A password of the wrong length cannot match any account; still spend the hashing time.
    let password = Password::parse(req.password.expose_secret().to_owned()).ok();
    let user = match &email {
        Some(email) => state.store.read().await?.user_by_email(email).await?,
        None => None,
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let ok = crate::api::hashing::on_hashing_thread(move || match (password, hash) {
        (Some(pw), Some(hash)) => pw.verify(&hash),
        (Some(pw), None) => {
            pw.verify_against_nothing();
            false
        }
        (None, _) => false,
    })
    .await?;
    match user {
        Some(user) if ok => start_session(state.store.write().await?, user, StatusCode::OK, transport).await,
        _ => Err(wrong()),
    }
}

/// Ends the session (if any) and clears the cookie. Always 204.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204, description = "Logged out"),
    (status = 403, description = "Sent from a foreign page (Origin)", body = ErrorBody)))]
pub async fn create_logout(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    transport: Transport,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    if let Some(session) = transport.session_value(&headers) {
        let mut tx = state.store.write().await?;
        tx.delete_session(&OpaqueToken::hash_of(&session)).await?;
        SqliteStore::commit(tx).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, transport.clear_session_cookie())],
    )
        .into_response())
}

/// The caller, their workspaces (use `memberships[0].tenantId`) and how they authenticated.
#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = []), ("session" = [])), responses(
    (status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<MeResponse>> {
    let mut tx = state.store.read().await?;
    Ok(Json(me(&mut tx, auth.user, auth.method, auth.token.as_ref()).await?))
}
