//! What a token may call: the one table (`route_table.rs`), read by the `Auth` extractor for
//! every request and checked once the object is found (`Auth::admit`), so a foreign or missing
//! object stays 404. A test holds the table to the served document: a route missing there
//! fails it, and the document names each route's scope.

pub use super::route_table::{ROUTES, Reach};
use crate::error::ApiError;
use Reach::Workspace;
use axum::http::Method;
use shipyard_core::TokenScope::{self, Write};

/// The scope a request to `route` (the matched pattern) with `method` needs; a route not in the
/// table needs `write`, so a forgotten one is closed, not open.
pub fn needed(method: &Method, route: &str) -> (TokenScope, Reach) {
    // A HEAD is answered by the GET handler, so it needs what the GET needs.
    let method = if method == Method::HEAD { &Method::GET } else { method };
    ROUTES
        .iter()
        .find(|(m, r, _, _)| *r == route && method.as_str() == *m)
        .map_or((Write, Workspace), |(_, _, scope, reach)| (*scope, *reach))
}

/// What a token may do, and what the request it came with needs.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// `tok_…`
    pub id: String,
    /// Its owner's label.
    pub name: String,
    /// Its scopes, as made.
    pub scopes: Vec<TokenScope>,
    /// Its widest scope.
    pub grant: TokenScope,
    /// What this request needs.
    pub needs: TokenScope,
    /// Whether this request writes to the workspace as a whole.
    pub reach: Reach,
    /// The projects it is limited to (None: every project).
    pub projects: Option<Vec<shipyard_core::ProjectId>>,
    /// `METHOD /route` of this request, for the refusal's sentence.
    pub route: String,
}

impl TokenGrant {
    /// 403 naming the missing scope unless the token covers the request.
    pub fn check(&self) -> Result<(), ApiError> {
        if !self.grant.covers(self.needs) {
            return Err(ApiError::forbidden(format!(
                "this token has the scope {}; {} needs {}",
                self.grant, self.route, self.needs
            )));
        }
        if self.projects.is_some() && self.reach == Workspace {
            return Err(ApiError::forbidden(format!(
                "this token is limited to some projects; {} changes the whole workspace",
                self.route
            )));
        }
        Ok(())
    }

    /// Whether the token reaches `project`.
    pub fn reaches(&self, project: &shipyard_core::ProjectId) -> bool {
        self.projects.as_ref().is_none_or(|ids| ids.contains(project))
    }
}

/// Names each operation's scope in the document (`x-token-scope`), from the same table.
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let operations = [
            (Method::GET, item.get.as_mut()),
            (Method::POST, item.post.as_mut()),
            (Method::PUT, item.put.as_mut()),
            (Method::PATCH, item.patch.as_mut()),
            (Method::DELETE, item.delete.as_mut()),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            let (scope, reach) = needed(&method, path);
            operation
                .extensions
                .get_or_insert_with(Default::default)
                .insert("x-token-scope".to_owned(), serde_json::json!(scope.as_str()));
            if reach == Workspace {
                operation.extensions.get_or_insert_with(Default::default).insert(
                    "x-token-projects".to_owned(),
                    serde_json::json!("refused: a workspace-level write"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Reach::Projects;
    use shipyard_core::TokenScope::{Deploy, Read};

    #[test]
    fn the_table_names_every_operation_of_the_document_and_nothing_else() {
        let (_, doc) = crate::router::openapi_router();
        let mut served = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if op.is_some() {
                    served.push(format!("{method} {path}"));
                }
            }
        }
        let mut listed: Vec<String> = ROUTES.iter().map(|(m, r, _, _)| format!("{m} {r}")).collect();
        served.sort();
        listed.sort();
        assert_eq!(served, listed, "every route of the document has exactly one scope here");
    }

    #[test]
    fn reads_need_read_but_credentials_need_write_and_deploys_need_deploy() {
        let get = |r: &str| needed(&Method::GET, r).0;
        assert_eq!(get("/tenants/{tenantId}/projects"), Read);
        assert_eq!(get("/tenants/{tenantId}/deployments/{deploymentId}/stream"), Read);
        assert_eq!(get("/tenants/{tenantId}/databases/{databaseId}/connection"), Write);
        assert_eq!(get("/tenants/{tenantId}/databases/{databaseId}/tunnel"), Write);
        assert_eq!(
            needed(&Method::POST, "/tenants/{tenantId}/rollback"),
            (Deploy, Projects)
        );
        assert_eq!(needed(&Method::POST, "/tenants/{tenantId}/secrets"), (Write, Projects));
        assert_eq!(needed(&Method::POST, "/tenants/{tenantId}/members"), (Write, Workspace));
        assert_eq!(
            needed(&Method::GET, "/no/such/route"),
            (Write, Workspace),
            "closed when unknown"
        );
        assert_eq!(needed(&Method::HEAD, "/tenants/{tenantId}/projects").0, Read);
        assert_eq!(
            needed(&Method::HEAD, "/tenants/{tenantId}/databases/{databaseId}/connection").0,
            Write
        );
    }
}
