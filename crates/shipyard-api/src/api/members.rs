//! Workspace members: everyone can list; owners and admins add, change and remove; only an
//! owner touches owners; the last owner can neither leave nor be demoted.

use crate::api::input;
use crate::auth::{Auth, require_write};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::paging::{List, PageQuery, list_of};
use crate::paths::TenantPath;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
pub use shipyard_api_types::members::{AddMemberRequest, MemberView, UpdateMemberRequest};
use shipyard_core::{Role, UserId};
use shipyard_store::{Backend, Member, Members, SqliteStore, TenantScope, Tx, Users};

/// The API's view of a stored member.
pub fn member_view(m: Member) -> MemberView {
    MemberView {
        user_id: m.user_id.to_string(),
        email: m.email.as_str().to_owned(),
        name: m.name,
        role: m.role,
        joined_at: m.joined_at,
    }
}

/// Owners alone may grant, change or remove the owner role.
fn require_owner_for(scope: &TenantScope, touches_owner: bool) -> Result<(), ApiError> {
    if touches_owner && scope.role() != Role::Owner {
        return Err(ApiError::forbidden(
            "only an owner can grant, change or remove the owner role",
        ));
    }
    Ok(())
}

async fn last_owner_guard(tx: &mut Tx, scope: &TenantScope, target: &Member) -> Result<(), ApiError> {
    if target.role == Role::Owner && tx.count_owners(scope).await? <= 1 {
        return Err(ApiError::conflict(
            "this is the workspace's last owner; make someone else owner first",
        ));
    }
    Ok(())
}

async fn find_member(tx: &mut Tx, scope: &TenantScope, raw: &str) -> Result<Member, ApiError> {
    let not_found = || ApiError::not_found(format!("member {raw} not found"));
    let id = UserId::parse(raw).map_err(|_| not_found())?;
    tx.member(scope, &id).await?.ok_or_else(not_found)
}

/// Members of a workspace, in the order they joined.
#[utoipa::path(get, path = "/tenants/{tenantId}/members", tag = "members",
    params(TenantPath, PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 400, description = "A bad query parameter (page, perPage)", body = ErrorBody), (status = 200, body = List<MemberView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<List<MemberView>>> {
    let mut tx = state.store.read().await?;
    let scope = path.load(&auth, &mut tx).await?;
    let page = query.page()?;
    let paged = tx.list_members(&scope, page).await?;
    Ok(Json(list_of(paged, page, member_view)))
}

/// Adds an existing user to the workspace (owners and admins).
#[utoipa::path(post, path = "/tenants/{tenantId}/members", tag = "members", request_body = AddMemberRequest,
    params(TenantPath), security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = MemberView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Already a member", body = ErrorBody),
    (status = 422, description = "No user has that email", body = ErrorBody)))]
pub async fn create_member(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(path): ApiPath<TenantPath>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let mut tx = state.store.write().await?;
    let scope = path.load(&auth, &mut tx).await?;
    require_write(&scope, Role::Admin)?;
    let req: AddMemberRequest = body.parse()?;
    let email = input::email(&req.email)?;
    require_owner_for(&scope, req.role == Role::Owner)?;
    let user = tx.user_by_email(&email).await?.ok_or_else(|| {
        ApiError::unprocessable(format!(
            "field `email`: no user has the email {}; a platform admin can create the account first",
            email.as_str()
        ))
    })?;
    let member = tx.add_member(&scope, &user.id, req.role).await?;
    SqliteStore::commit(tx).await?;
    Ok((StatusCode::CREATED, Json(member_view(member))))
}

/// Changes a member's role (owners and admins; owners only where an owner is involved).
#[utoipa::path(patch, path = "/tenants/{tenantId}/members/{userId}", tag = "members",
    request_body = UpdateMemberRequest,
    params(("tenantId" = String, Path, description = "`ten_…`"), ("userId" = String, Path, description = "`usr_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = MemberView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "Would leave no owner", body = ErrorBody)))]
pub async fn update_member(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, user_id)): ApiPath<(String, String)>,
    body: JsonBody,
) -> ApiResult<Json<MemberView>> {
    let mut tx = state.store.write().await?;
    let scope = auth.workspace(&mut tx, &tenant_id).await?;
    let target = find_member(&mut tx, &scope, &user_id).await?;
    auth.admit()?;
    require_write(&scope, Role::Admin)?;
    let req: UpdateMemberRequest = body.parse()?;
    require_owner_for(&scope, target.role == Role::Owner || req.role == Role::Owner)?;
    if req.role != Role::Owner {
        last_owner_guard(&mut tx, &scope, &target).await?;
    }
    let updated = tx
        .set_member_role(&scope, &target.user_id, req.role)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("member {user_id} not found")))?;
    SqliteStore::commit(tx).await?;
    Ok(Json(member_view(updated)))
}

/// Removes a member. Anyone may remove themselves (leave); removing others needs owner or admin.
#[utoipa::path(delete, path = "/tenants/{tenantId}/members/{userId}", tag = "members",
    params(("tenantId" = String, Path, description = "`ten_…`"), ("userId" = String, Path, description = "`usr_…`")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody), (status = 409, description = "Last owner", body = ErrorBody)))]
pub async fn delete_member(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((tenant_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let mut tx = state.store.write().await?;
    let scope = auth.workspace(&mut tx, &tenant_id).await?;
    let target = find_member(&mut tx, &scope, &user_id).await?;
    auth.admit()?;
    if target.user_id == auth.user.id {
        require_write(&scope, Role::Viewer)?;
    } else {
        require_write(&scope, Role::Admin)?;
        require_owner_for(&scope, target.role == Role::Owner)?;
    }
    last_owner_guard(&mut tx, &scope, &target).await?;
    tx.remove_member(&scope, &target.user_id).await?;
    SqliteStore::commit(tx).await?;
    Ok(StatusCode::NO_CONTENT)
}
