//! Every route of the API in one place. `routes!` registers a handler and its OpenAPI entry
//! together, so the document cannot drift from what is served.

use crate::api::deployments::{actions, logs, read as deploy_read, trigger};
use crate::api::projects::{create, detect, environments, read, update};
use crate::api::{
    access_logs, admin, auth, connections, databases, domains, health, members, releases, rollback, runs, runtime,
    runtime_logs, secrets, tokens,
};
use crate::middleware;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

/// Largest request body the API reads.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// The API's routes and the OpenAPI document describing them.
pub fn openapi_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::get_health))
        .routes(routes!(auth::create_signup))
        .routes(routes!(auth::create_login))
        .routes(routes!(auth::create_logout))
        .routes(routes!(auth::get_me))
        .routes(routes!(tokens::list_api_tokens, tokens::create_api_token))
        .routes(routes!(tokens::delete_api_token))
        .routes(routes!(members::list_members, members::create_member))
        .routes(routes!(members::update_member, members::delete_member))
        .routes(routes!(
            connections::list_repository_connections,
            connections::create_repository_connection
        ))
        .routes(routes!(
            connections::get_repository_connection,
            connections::delete_repository_connection
        ))
        .routes(routes!(connections::list_repository_branches))
        .routes(routes!(read::list_projects, create::create_project))
        .routes(routes!(detect::create_detection))
        .routes(routes!(read::get_project, update::update_project, read::delete_project))
        .routes(routes!(update::update_build_config))
        .routes(routes!(update::update_runtime_config))
        .routes(routes!(environments::create_environment))
        .routes(routes!(
            environments::update_environment,
            environments::delete_environment
        ))
        .routes(routes!(secrets::list_secrets, secrets::create_secret))
        .routes(routes!(secrets::update_secret, secrets::delete_secret))
        .routes(routes!(
            databases::read::list_databases,
            databases::create::create_database
        ))
        .routes(routes!(
            databases::read::get_database,
            databases::lifecycle::delete_database
        ))
        .routes(routes!(databases::read::get_database_connection))
        .routes(routes!(databases::lifecycle::create_database_start))
        .routes(routes!(databases::lifecycle::create_database_stop))
        .routes(routes!(runs::create_run))
        .routes(routes!(runs::get_run))
        .routes(routes!(runs::get_run_stream))
        .routes(routes!(databases::attach::create_database_attach))
        .routes(routes!(databases::attach::create_database_detach))
        .routes(routes!(
            databases::backups::list_backups,
            databases::backups::create_backup
        ))
        .routes(routes!(
            databases::backups::get_backup,
            databases::backups::delete_backup
        ))
        .routes(routes!(databases::backups::get_backup_download))
        .routes(routes!(databases::backups::create_backup_verify))
        .routes(routes!(databases::restores::create_backup_restore))
        .routes(routes!(databases::restores::list_restores))
        .routes(routes!(databases::restores::get_restore))
        .routes(routes!(databases::tunnel::get_database_tunnel))
        .routes(routes!(databases::rotate::create_database_rotate_password))
        .routes(routes!(domains::list_domains, domains::create_domain))
        .routes(routes!(domains::create_domain_verify))
        .routes(routes!(domains::delete_domain))
        .routes(routes!(trigger::create_deployment))
        .routes(routes!(deploy_read::list_deployments))
        .routes(routes!(deploy_read::get_deployment))
        .routes(routes!(logs::list_deployment_logs))
        .routes(routes!(logs::get_deployment_stream))
        .routes(routes!(actions::create_cancel))
        .routes(routes!(actions::create_retry))
        .routes(routes!(releases::list_releases))
        .routes(routes!(rollback::create_rollback))
        .routes(routes!(runtime::get_runtime))
        .routes(routes!(runtime_logs::list_runtime_logs))
        .routes(routes!(runtime_logs::get_runtime_log_stream))
        .routes(routes!(access_logs::list_access_logs))
        .routes(routes!(access_logs::get_access_log_stream))
        .routes(routes!(admin::list_admin_tenants))
        .routes(routes!(admin::update_admin_tenant))
        .routes(routes!(admin::list_admin_users, admin::create_admin_user))
        .routes(routes!(admin::create_admin_certificate_renew))
        .split_for_parts();
    crate::auth::document_token_scopes(&mut doc);
    (routes, doc)
}

/// The whole API: routes, `/openapi.json`, the offline docs page at `/docs`, the middleware
/// every request passes, and the web console beside it.
pub fn api_router(state: AppState) -> Router {
    let (routes, doc) = openapi_router();
    let api = routes
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .fallback(middleware::no_route)
        .method_not_allowed_fallback(middleware::wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(middleware::body_limit))
        .layer(axum::middleware::from_fn(middleware::timeout))
        .with_state(state.clone());
    // The console's pages call the API in-process, so it is handed the API without itself.
    let console = crate::console::router(crate::console::Console {
        app: state,
        api: api.clone(),
    });
    api.merge(console)
}
