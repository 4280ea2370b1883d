//! What a token may call: one table, route → the scope it needs (CONTRACT.md, "Settled in turn
//! 3"), read by the `Auth` extractor for every request and checked once the workspace is found
//! (`Auth::tenant`), so a foreign workspace's objects stay 404. A test holds the table to the
//! served document: a route missing here fails it, and the document names each route's scope.

use crate::error::ApiError;
use axum::http::Method;
use shipyard_core::TokenScope::{self, Deploy, Read, Write};

/// Who may call a route among tokens limited to some projects (`projectIds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Any token: objects of other projects are 404 where they are looked up.
    Projects,
    /// A write to the workspace as a whole (members, connections, new projects and
    /// databases): 403 for a token limited to some projects.
    Workspace,
}
use Reach::{Projects, Workspace};

/// Every operation of the API, the scope a token needs for it and who may call it.
pub const ROUTES: &[(&str, &str, TokenScope, Reach)] = &[
    ("GET", "/account/api-tokens", Read, Projects),
    ("POST", "/account/api-tokens", Write, Projects),
    ("DELETE", "/account/api-tokens/{tokenId}", Write, Projects),
    ("POST", "/admin/certificates/{hostname}/renew", Write, Projects),
    ("GET", "/admin/tenants", Read, Projects),
    ("PATCH", "/admin/tenants/{tenantId}", Write, Projects),
    ("GET", "/admin/users", Read, Projects),
    ("POST", "/admin/users", Write, Projects),
    ("POST", "/auth/login", Write, Projects),
    ("POST", "/auth/logout", Write, Projects),
    ("GET", "/auth/me", Read, Projects),
    ("POST", "/auth/signup", Write, Projects),
    ("GET", "/healthz", Read, Projects),
    ("GET", "/tenants/{tenantId}/databases", Read, Projects),
    ("POST", "/tenants/{tenantId}/databases", Write, Workspace),
    ("DELETE", "/tenants/{tenantId}/databases/{databaseId}", Write, Projects),
    ("GET", "/tenants/{tenantId}/databases/{databaseId}", Read, Projects),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/attach",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/backups",
        Read,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/backups",
        Write,
        Projects,
    ),
    (
        "DELETE",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/download",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/restore",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/verify",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/connection",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/detach",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/restores",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/restores/{restoreId}",
        Read,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/rotate-password",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/start",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/stop",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/tunnel",
        Write,
        Projects,
    ),
    ("GET", "/tenants/{tenantId}/deployments/{deploymentId}", Read, Projects),
    (
        "POST",
        "/tenants/{tenantId}/deployments/{deploymentId}/cancel",
        Deploy,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/deployments/{deploymentId}/logs",
        Read,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/deployments/{deploymentId}/retry",
        Deploy,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/deployments/{deploymentId}/stream",
        Read,
        Projects,
    ),
    ("GET", "/tenants/{tenantId}/members", Read, Projects),
    ("POST", "/tenants/{tenantId}/members", Write, Workspace),
    ("DELETE", "/tenants/{tenantId}/members/{userId}", Write, Workspace),
    ("PATCH", "/tenants/{tenantId}/members/{userId}", Write, Workspace),
    ("GET", "/tenants/{tenantId}/projects", Read, Projects),
    ("POST", "/tenants/{tenantId}/projects", Write, Workspace),
    ("POST", "/tenants/{tenantId}/projects/detect", Write, Workspace),
    ("DELETE", "/tenants/{tenantId}/projects/{projectId}", Write, Projects),
    ("GET", "/tenants/{tenantId}/projects/{projectId}", Read, Projects),
    ("PATCH", "/tenants/{tenantId}/projects/{projectId}", Write, Projects),
    (
        "PATCH",
        "/tenants/{tenantId}/projects/{projectId}/build-config",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/deployments",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/domains",
        Read,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/domains",
        Write,
        Projects,
    ),
    (
        "DELETE",
        "/tenants/{tenantId}/projects/{projectId}/domains/{domainId}",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/domains/{domainId}/verify",
        Write,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/environments",
        Write,
        Projects,
    ),
    (
        "DELETE",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}",
        Write,
        Projects,
    ),
    (
        "PATCH",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/access-logs",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/access-logs/stream",
        Read,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/deployments",
        Deploy,
        Projects,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/runs",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/runtime",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/releases",
        Read,
        Projects,
    ),
    (
        "PATCH",
        "/tenants/{tenantId}/projects/{projectId}/runtime-config",
        Write,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/releases/{releaseId}/runtime-logs",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/releases/{releaseId}/runtime-logs/stream",
        Read,
        Projects,
    ),
    ("GET", "/tenants/{tenantId}/repository-connections", Read, Projects),
    ("POST", "/tenants/{tenantId}/repository-connections", Write, Workspace),
    (
        "DELETE",
        "/tenants/{tenantId}/repository-connections/{connectionId}",
        Write,
        Workspace,
    ),
    (
        "GET",
        "/tenants/{tenantId}/repository-connections/{connectionId}",
        Read,
        Projects,
    ),
    (
        "GET",
        "/tenants/{tenantId}/repository-connections/{connectionId}/branches",
        Read,
        Projects,
    ),
    ("POST", "/tenants/{tenantId}/rollback", Deploy, Projects),
    ("GET", "/tenants/{tenantId}/runs/{runId}", Read, Projects),
    ("GET", "/tenants/{tenantId}/runs/{runId}/logs/stream", Read, Projects),
    ("GET", "/tenants/{tenantId}/secrets", Read, Projects),
    ("POST", "/tenants/{tenantId}/secrets", Write, Projects),
    ("DELETE", "/tenants/{tenantId}/secrets/{secretId}", Write, Projects),
    ("PATCH", "/tenants/{tenantId}/secrets/{secretId}", Write, Projects),
];

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
