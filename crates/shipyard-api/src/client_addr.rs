//! The client address of a request as an extractor (`shipyard_edge::client_addr` says how it
//! is found), for the routes that rate-limit by it.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use shipyard_edge::client_addr;
use std::net::{IpAddr, SocketAddr};

/// Who sent the request, as far as the server can believe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(client_addr(
            peer,
            &parts.headers,
            &state.settings.trusted_proxies,
        )))
    }
}
