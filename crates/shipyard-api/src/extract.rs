//! Request extractors whose failures answer in the contract's error shape.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

/// Path parameters; a rejection is a 400 in the contract shape.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// Query parameters; a rejection is a 400 naming the parameter.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A JSON body, read but not yet parsed: handlers parse it after the path objects and the
/// caller's role were checked, so the contract's order of checks (401, 404, 403, 400) holds.
pub struct JsonBody(Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json") || v.to_ascii_lowercase().ends_with("+json")
            });
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            // A client that stopped sending its body is told so, not that it sent a bad one.
            let status = if shipyard_edge::timed_out(&rejection) {
                axum::http::StatusCode::REQUEST_TIMEOUT
            } else {
                rejection.status()
            };
            ApiError::new(
                status,
                format!("request body could not be read: {}", rejection.body_text()),
            )
        })?;
        if !json_type && !bytes.is_empty() {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "request body must be JSON: send `Content-Type: application/json`",
            ));
        }
        Ok(Self(bytes))
    }
}

impl JsonBody {
    /// Whether no body (or only whitespace) was sent, for routes whose body is optional.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(u8::is_ascii_whitespace)
    }

    /// Parses the body; the error names the offending field and why.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.0.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request("request body is empty; expected a JSON object"));
        }
        let de = &mut serde_json::Deserializer::from_slice(&self.0);
        serde_path_to_error::deserialize(de).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::bad_request(format!("request body is not valid JSON: {inner}"))
            } else if path == "." {
                ApiError::bad_request(format!("request body: {inner}"))
            } else {
                ApiError::bad_request(format!("field `{path}`: {inner}"))
            }
        })
    }
}
