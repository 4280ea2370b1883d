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
    // Event streams stay open for as long as the client follows them; a backup's proof answers
    // once done, within its own bound (a restore of the whole database).
    if request.uri().path().ends_with("/stream") || request.uri().path().ends_with("/verify") {
        return next.run(request).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took longer than 30 s and was stopped",
        )
        .into_response(),
    }
}

/// Refuses a declared body over the limit before any handler runs, so even routes that take
/// no body answer 413 instead of silently ignoring megabytes.
pub async fn body_limit(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > crate::router::BODY_LIMIT_BYTES as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is larger than the 1 MiB limit",
        )
        .into_response();
    }
    next.run(request).await
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
