//! `/admin/*`: platform admins' sessions only. Tokens never reach these routes.

use crate::api::input;
use crate::api::views::{TenantView, UserView, tenant_view, user_view};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery, list_of};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::admin::{CreateUserRequest, UpdateTenantRequest};
use shipyard_api_types::domains::{CertificateStatus, DomainCertificate};
use shipyard_core::TenantId;
use shipyard_store::{Backend, Certificates, NewUser, SqliteStore, TenantPatch, Tenants, Users};

/// Every workspace on the platform.
#[utoipa::path(get, path = "/admin/tenants", tag = "admin", params(PageQuery), security(("session" = [])),
    responses((status = 400, description = "A bad query parameter (page, perPage)", body = ErrorBody), (status = 200, body = List<TenantView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_admin_tenants(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<TenantView>>> {
    let mut tx = state.store.read().await?;
    let admin = auth.admin(&mut tx).await?;
    let page = query.page()?;
    let paged = tx.list_tenants(&admin, page).await?;
    Ok(Json(list_of(paged, page, tenant_view)))
}

/// Sets a workspace's deploy quota, memory or storage limit, or suspends it.
#[utoipa::path(patch, path = "/admin/tenants/{tenantId}", tag = "admin", request_body = UpdateTenantRequest,
    params(("tenantId" = String, Path, description = "`ten_…`")), security(("session" = [])),
    responses((status = 200, body = TenantView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The workspace already holds more than the storage limit asked for", body = ErrorBody)))]
pub async fn update_admin_tenant(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(tenant_id): ApiPath<String>,
    body: JsonBody,
) -> ApiResult<Json<TenantView>> {
    let mut tx = state.store.write().await?;
    let admin = auth.admin(&mut tx).await?;
    let not_found = || ApiError::not_found(format!("workspace {tenant_id} not found"));
    let id = TenantId::parse(&tenant_id).map_err(|_| not_found())?;
    let req: UpdateTenantRequest = body.parse()?;
    if req.deploys_per_day.is_some_and(|n| !(0..=100_000).contains(&n)) {
        return Err(ApiError::bad_request(
            "field `deploysPerDay` must be between 0 and 100000",
        ));
    }
    if req.memory_mb_limit.is_some_and(|n| !(0..=16_777_216).contains(&n)) {
        return Err(ApiError::bad_request(
            "field `memoryMbLimit` must be between 0 and 16777216",
        ));
    }
    if req.storage_gb_limit.is_some_and(|n| !(1..=1_048_576).contains(&n)) {
        return Err(ApiError::bad_request(
            "field `storageGbLimit` must be between 1 and 1048576",
        ));
    }
    if req.max_databases.is_some_and(|n| !(0..=1000).contains(&n)) {
        return Err(ApiError::bad_request("field `maxDatabases` must be between 0 and 1000"));
    }
    let patch = TenantPatch {
        deploys_per_day: req.deploys_per_day,
        memory_mb_limit: req.memory_mb_limit,
        storage_gb_limit: req.storage_gb_limit,
        max_databases: req.max_databases,
        suspended: req.suspended,
    };
    let tenant = tx.update_tenant(&admin, &id, &patch).await?.ok_or_else(not_found)?;
    if let Some(gib) = patch.storage_gb_limit {
        // The disk first: a limit it cannot hold is refused with nothing written. The write lock
        // held meanwhile keeps two changes in order; moving the limit takes milliseconds.
        hold_storage(&state, &id, gib).await?;
    }
    SqliteStore::commit(tx).await?;
    if patch.suspended.is_some() {
        // A suspended workspace's apps answer 503 and stop; reinstated, they start again.
        state.runtime.reconcile(&state.store, &state.secret_box).await;
    }
    Ok(Json(tenant_view(tenant)))
}

/// Holds a workspace's disk to `gib` GiB; 409 when it already holds more.
async fn hold_storage(state: &AppState, tenant: &TenantId, gib: i64) -> ApiResult<()> {
    let (workspaces, tenant) = (state.runtime.workspaces().clone(), tenant.to_string());
    let bytes = u64::try_from(gib).unwrap_or(0) << 30;
    let held = tokio::task::spawn_blocking(move || workspaces.set_limit(&tenant, bytes))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match held {
        Ok(()) => Ok(()),
        Err(shipyard_sandbox::DiskError::Full { used }) => Err(ApiError::conflict(format!(
            "the workspace already holds {} (releases, build caches and instances' HOMEs); \
             storageGbLimit cannot go below that until some of it is deleted",
            shipyard_core::size::text(used)
        ))),
        Err(e) => Err(ApiError::internal(&e)),
    }
}

/// Every user on the platform.
#[utoipa::path(get, path = "/admin/users", tag = "admin", params(PageQuery), security(("session" = [])),
    responses((status = 400, description = "A bad query parameter (page, perPage)", body = ErrorBody), (status = 200, body = List<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_admin_users(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<UserView>>> {
    let mut tx = state.store.read().await?;
    let admin = auth.admin(&mut tx).await?;
    let page = query.page()?;
    let paged = tx.list_users(&admin, page).await?;
    Ok(Json(list_of(paged, page, user_view)))
}

/// Creates a user with no workspace; add them to one with `POST /tenants/<t>/members`.
#[utoipa::path(post, path = "/admin/users", tag = "admin", request_body = CreateUserRequest, security(("session" = [])),
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, description = "Email taken", body = ErrorBody)))]
pub async fn create_admin_user(
    State(state): State<AppState>,
    auth: Auth,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    {
        let mut tx = state.store.read().await?;
        auth.admin(&mut tx).await?;
    }
    let req: CreateUserRequest = body.parse()?;
    let email = input::email(&req.email)?;
    let password = input::password(&req.password)?;
    let name = input::name_or_default(req.name.as_deref(), &email)?;
    let hash = input::hash(password).await?;
    let mut tx = state.store.write().await?;
    auth.admin(&mut tx).await?;
    let user = tx
        .create_user(&NewUser {
            email,
            name,
            password_hash: Some(hash),
            is_platform_admin: false,
        })
        .await?;
    SqliteStore::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(user_view(user))))
}

/// Renews a custom domain's certificate now, whatever its age (the one before is served until
/// the new one is stored; the CA's limits still hold).
#[utoipa::path(post, path = "/admin/certificates/{hostname}/renew", tag = "admin",
    params(("hostname" = String, Path, description = "The domain's hostname, as `hostname` shows it")),
    security(("session" = [])),
    responses((status = 202, description = "Asked for: the issuer orders it at once", body = DomainCertificate),
    (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, description = "No certificate is issued for the hostname", body = ErrorBody),
    (status = 409, description = "The server has no HTTPS listener", body = ErrorBody)))]
pub async fn create_admin_certificate_renew(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(hostname): ApiPath<String>,
) -> ApiResult<(StatusCode, Json<DomainCertificate>)> {
    let mut tx = state.store.read().await?;
    auth.admin(&mut tx).await?;
    let hostname = hostname.trim_end_matches('.').to_ascii_lowercase();
    let none = || ApiError::not_found(format!("no certificate is issued for {hostname}"));
    tx.certificate(&hostname)
        .await?
        .and_then(|row| row.issued)
        .ok_or_else(none)?;
    drop(tx);
    let acme = state.acme.as_ref().ok_or_else(|| {
        ApiError::conflict(
            "this server has no HTTPS listener (--listen-tls) to renew certificates with; start it with one",
        )
    })?;
    if !acme.renew(&hostname).await? {
        return Err(none());
    }
    let row = state
        .store
        .read()
        .await?
        .certificate(&hostname)
        .await?
        .ok_or_else(none)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(DomainCertificate {
            status: CertificateStatus::Issued,
            not_after: row.issued.map(|issued| issued.not_after),
            error: row.error,
        }),
    ))
}
