//! The database tunnel: `GET …/databases/<id>/tunnel` with `Connection: Upgrade` and
//! `Upgrade: shipyard-tcp` answers 101 and then carries the connection to the database's port,
//! so psql, migrations and GUI clients work from a laptop (`shipyard databases connect`).

use crate::auth::{Auth, AuthMethod};
use crate::client_addr::ClientAddr;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiPath;
use crate::paths::DatabasePath;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use shipyard_core::Role;
use shipyard_databases::tunnel::TunnelCaller;
use shipyard_store::Backend;

/// The protocol the tunnel switches to.
pub const PROTOCOL: &str = "shipyard-tcp";

fn asks_for_tunnel(request: &Request) -> bool {
    let headers = request.headers();
    let upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    upgrade
        && headers
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case(PROTOCOL))
}

/// Opens a tunnel to the database's port (owners, admins and members): 101, then the
/// connection's bytes go to and from the database as they are.
#[utoipa::path(get, path = "/tenants/{tenantId}/databases/{databaseId}/tunnel", tag = "databases",
    params(DatabasePath), security(("bearer" = []), ("session" = [])),
    responses((status = 101, description = "Switched to shipyard-tcp: the connection now carries the database's protocol"),
    (status = 400, description = "Not an upgrade to shipyard-tcp", body = ErrorBody), (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
    (status = 409, description = "The database is not running", body = ErrorBody)))]
pub async fn get_database_tunnel(
    State(state): State<AppState>,
    auth: Auth,
    ClientAddr(client): ClientAddr,
    ApiPath(path): ApiPath<DatabasePath>,
    mut request: Request,
) -> ApiResult<Response> {
    let mut tx = state.store.read().await?;
    let (scope, database) = path.load(&auth, &mut tx).await?;
    drop(tx);
    if !scope.role().at_least(Role::Member) {
        return Err(ApiError::forbidden("viewers cannot open a tunnel to a database"));
    }
    if !asks_for_tunnel(&request) {
        return Err(ApiError::bad_request(format!(
            "a tunnel is an upgrade: send `Connection: Upgrade` and `Upgrade: {PROTOCOL}` (shipyard databases connect does)"
        )));
    }
    let server = state.databases.open_tunnel(&database).await?;
    let upgraded = hyper::upgrade::on(&mut request);
    let caller = TunnelCaller {
        user: auth.user.id.to_string(),
        via: match auth.method {
            AuthMethod::Session => "session",
            AuthMethod::Token => "token",
        },
        client: client.map(|c| c.to_string()),
    };
    state.databases.carry(
        &database,
        caller,
        async move { upgraded.await.ok().map(TokioIo::new) },
        server,
    );
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static(PROTOCOL));
    Ok(response)
}
