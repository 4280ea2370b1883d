//! Liveness for load balancers: answers without credentials.

use axum::Json;
pub use shipyard_api_types::health::Health;

/// Whether the server is up.
#[utoipa::path(get, path = "/healthz", tag = "platform", responses((status = 200, body = Health)))]
pub async fn get_health() -> Json<Health> {
    Json(Health { status: "ok" })
}
