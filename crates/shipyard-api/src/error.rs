//! The one error type of the HTTP edge. Every failure leaves as
//! `{ statusCode, error, message }`; a 5xx logs its cause and shows none of it.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use shipyard_api_types::error::ErrorBody;
use shipyard_core::DomainError;
use shipyard_store::{Constraint, StoreError};

/// An error answer: a status and a message for the user.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400: the request is malformed; the message names the field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401: no, invalid or expired credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: missing, or belonging to another workspace.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 422: well-formed but impossible.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 429 with `Retry-After`.
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }

    /// 503: the server cannot take this now (it is stopping).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 500: a bug or an outage; `cause` goes to the log, never to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the details",
        )
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The sentence for the user.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            status_code: self.status.as_u16(),
            error: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            message: self.message,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(constraint) => ApiError::conflict(conflict_message(constraint)),
            StoreError::Refused(domain) => domain.into(),
            // The operator's range is used up: nothing the caller did wrong, nothing broken.
            exhausted @ StoreError::UidsExhausted { .. } => ApiError::unavailable(exhausted.to_string()),
            other => ApiError::internal(&other),
        }
    }
}

/// What a unique violation means to the user, for the constraints a request can hit.
fn conflict_message(constraint: Constraint) -> String {
    match constraint {
        Constraint::UserEmail => "a user with this email already exists".into(),
        Constraint::Membership => "that user is already a member of this workspace".into(),
        Constraint::DatabaseName => "a database with this name already exists in this workspace".into(),
        Constraint::DatabaseAttachment => {
            "this database is attached to that project and environment already; detach it first to change envVar".into()
        }
        Constraint::DomainHostname => "this project has that hostname already".into(),
        Constraint::DomainVerified => "another workspace has verified this hostname; it can serve only one".into(),
        other => format!("conflicts with an existing record ({})", other.name()),
    }
}

impl From<shipyard_runtime::RuntimeError> for ApiError {
    fn from(err: shipyard_runtime::RuntimeError) -> Self {
        match err {
            shipyard_runtime::RuntimeError::Store(store) => store.into(),
        }
    }
}

impl From<shipyard_runtime::admission::Refusal> for ApiError {
    fn from(refusal: shipyard_runtime::admission::Refusal) -> Self {
        use shipyard_runtime::admission::Refusal;
        match refusal {
            Refusal::NotActive(why) => ApiError::conflict(why),
            Refusal::Quota { wait_secs, .. } => ApiError::too_many_requests(refusal.to_string(), wait_secs),
            Refusal::OverMemory(why) => ApiError::unprocessable(why),
            Refusal::Store(err) => err.into(),
        }
    }
}

impl From<shipyard_databases::DatabaseError> for ApiError {
    fn from(err: shipyard_databases::DatabaseError) -> Self {
        use shipyard_databases::DatabaseError;
        match err {
            DatabaseError::UnknownEngine(_)
            | DatabaseError::UnknownVersion { .. }
            | DatabaseError::NoServer
            | DatabaseError::Unconfined => ApiError::unprocessable(err.to_string()),
            DatabaseError::NoPort(_) => ApiError::unavailable(err.to_string()),
            DatabaseError::NotRunning(_)
            | DatabaseError::BackupNotCompleted { .. }
            | DatabaseError::Unreadable { .. }
            | DatabaseError::ProofBusy
            | DatabaseError::NoRoomForProof { .. } => ApiError::conflict(err.to_string()),
            DatabaseError::Unavailable(_) => ApiError::unavailable(err.to_string()),
            DatabaseError::Store(store) => store.into(),
            DatabaseError::Step { .. } => ApiError::internal(&err),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            // Well-formed names that cannot be used together.
            DomainError::HostLabelTooLong { .. } => ApiError::unprocessable(err.to_string()),
            _ => ApiError::bad_request(err.to_string()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request(format!("bad path: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request(format!("bad query string: {}", rejection.body_text()))
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
