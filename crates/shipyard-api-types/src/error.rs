//! The contract's error shape.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of every non-2xx response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The HTTP status code, repeated for clients that only see the body.
    #[schema(example = 404)]
    pub status_code: u16,
    /// The status's reason phrase.
    #[schema(example = "Not Found")]
    pub error: String,
    /// One sentence for a person: what was wrong, naming the field or object.
    #[schema(example = "workspace ten_0190… not found")]
    pub message: String,
}
