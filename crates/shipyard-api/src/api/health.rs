//! Liveness for load balancers: answers without credentials.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the server answers.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Whether the server is up.
#[utoipa::path(get, path = "/healthz", tag = "platform", responses((status = 200, body = Health)))]
pub async fn get_health() -> Json<Health> {
    Json(Health { status: "ok" })
}
