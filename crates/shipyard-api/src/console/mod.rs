//! The web console: pages rendered on the server (askama templates in `templates/`) for people
//! at a browser, beside the API at the platform host. Every read and form works without
//! JavaScript; `assets/console.js` only follows live logs. Reads and writes go through the API
//! itself (`call`), so the console has no rule of its own to get wrong.

mod ansi;
mod assets;
mod call;
mod csrf;
mod page;
mod pages;
mod shown;
mod visitor;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Largest form the console reads.
const FORM_LIMIT_BYTES: usize = 64 * 1024;

/// What console handlers reach: the API's state (for the reads the dashboard makes in one
/// query) and the API's router (for everything else).
#[derive(Clone)]
pub struct Console {
    /// The API's shared state.
    pub app: AppState,
    /// The API, called in-process with the visitor's own session.
    pub api: Router,
}

/// The console's routes: `/`, `/login`, `/signup` and `/app/…`.
pub fn router(console: Console) -> Router {
    use pages::{auth, dashboard, deployments, new_project, projects, releases};
    Router::new()
        .route("/", get(auth::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/signup", get(auth::signup_page).post(auth::signup))
        .route("/app", get(dashboard::first_workspace))
        .route("/app/logout", post(auth::logout))
        .route("/app/switch", get(dashboard::switch))
        .route("/app/static/{name}", get(assets::serve))
        .route("/app/{tenant}", get(dashboard::dashboard))
        .route("/app/{tenant}/new", get(new_project::start).post(new_project::create))
        .route("/app/{tenant}/new/detect", post(new_project::detect))
        .route("/app/{tenant}/projects/{project}", get(projects::project))
        .route(
            "/app/{tenant}/projects/{project}/environments/{environment}/deploy",
            post(projects::deploy),
        )
        .route("/app/{tenant}/deployments/{deployment}", get(deployments::deployment))
        .route(
            "/app/{tenant}/projects/{project}/releases/{release}/rollback",
            get(releases::confirm).post(releases::rollback),
        )
        .method_not_allowed_fallback(crate::middleware::wrong_method)
        .layer(DefaultBodyLimit::max(FORM_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(crate::middleware::body_limit))
        .layer(axum::middleware::from_fn(crate::middleware::timeout))
        .layer(axum::middleware::from_fn(page::headers))
        .with_state(console)
}
