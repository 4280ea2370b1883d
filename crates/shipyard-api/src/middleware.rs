//! Cross-cutting behaviour of every API request.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Longest an API request may take before the client gets a 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Ends a request that runs past `REQUEST_TIMEOUT` with an error in the contract shape.
pub async fn timeout(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the request took longer than 30 s and was stopped")
            .into_response(),
    }
}

/// Unknown paths answer 404 in the contract shape.
pub async fn no_route(request: Request) -> ApiError {
    ApiError::not_found(format!("no route for {} {}", request.method(), request.uri().path()))
}

/// Known paths with an unsupported method answer 405 in the contract shape.
pub async fn wrong_method(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not supported on {}", request.method(), request.uri().path()),
    )
}
