//! The OpenAPI document's frame: title, security schemes, tags. The operations themselves are
//! collected from the handlers by `router.rs`, so a route cannot be missing from the document.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's frame.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shipyard API",
        description = "Turn a git repository into a running, routed, logged application. \
                       Errors are `{ statusCode, error, message }`.",
    ),
    modifiers(&Security),
    tags(
        (name = "platform", description = "Health and documentation"),
        (name = "auth", description = "Accounts and sessions"),
        (name = "account", description = "Your API tokens"),
        (name = "members", description = "Who belongs to a workspace"),
        (name = "repositories", description = "Connected git repositories"),
        (name = "projects", description = "Projects, their configuration and environments"),
        (name = "deployments", description = "Builds, their live logs, cancel and retry"),
        (name = "secrets", description = "Encrypted, scoped, versioned configuration values"),
        (name = "databases", description = "Managed PostgreSQL: a real server per database, walled like a tenant"),
        (name = "domains", description = "Custom domains, proven through DNS"),
        (name = "admin", description = "Platform administration"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("shpat_…")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE.to_owned(),
                format!("`{}` over TLS", crate::auth::SECURE_SESSION_COOKIE),
            ))),
        );
    }
}
