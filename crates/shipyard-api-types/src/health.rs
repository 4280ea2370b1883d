//! The health check's answer.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The health answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the server answers.
    #[schema(example = "ok")]
    pub status: &'static str,
}
