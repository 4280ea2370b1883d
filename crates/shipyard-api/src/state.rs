//! What every handler can reach: the store and the settings of this server.

use crate::rate_limit::LoginLimiter;
use shipyard_store::SqliteStore;
use std::sync::Arc;

/// Settings of the API that come from `shipyard serve`'s configuration.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Where the API and console answer (for the Origin check).
    pub platform_host: String,
    /// Keep signup open after the first user.
    pub allow_signup: bool,
}

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: SqliteStore,
    /// This server's settings.
    pub settings: Arc<ApiSettings>,
    /// Throttles password guessing.
    pub login_limiter: Arc<LoginLimiter>,
}

impl AppState {
    /// State for a server over `store`.
    pub fn new(store: SqliteStore, settings: ApiSettings) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            login_limiter: Arc::new(LoginLimiter::new()),
        }
    }
}
