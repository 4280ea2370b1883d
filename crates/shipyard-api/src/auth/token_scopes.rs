//! What a token may call: one table, route → the scope it needs (CONTRACT.md, "Settled in turn
//! 3"), read by the `Auth` extractor for every request and checked once the workspace is found
//! (`Auth::tenant`), so a foreign workspace's objects stay 404. A test holds the table to the
//! served document: a route missing here fails it, and the document names each route's scope.

use crate::error::ApiError;
use axum::http::Method;
use shipyard_core::TokenScope::{self, Deploy, Read, Write};

/// Every operation of the API and the scope a token needs for it.
pub const ROUTES: &[(&str, &str, TokenScope)] = &[
    ("GET", "/account/api-tokens", Read),
    ("POST", "/account/api-tokens", Write),
    ("DELETE", "/account/api-tokens/{tokenId}", Write),
    ("POST", "/admin/certificates/{hostname}/renew", Write),
    ("GET", "/admin/tenants", Read),
    ("PATCH", "/admin/tenants/{tenantId}", Write),
    ("GET", "/admin/users", Read),
    ("POST", "/admin/users", Write),
    ("POST", "/auth/login", Write),
    ("POST", "/auth/logout", Write),
    ("GET", "/auth/me", Read),
    ("POST", "/auth/signup", Write),
    ("GET", "/healthz", Read),
    ("GET", "/tenants/{tenantId}/databases", Read),
    ("POST", "/tenants/{tenantId}/databases", Write),
    ("DELETE", "/tenants/{tenantId}/databases/{databaseId}", Write),
    ("GET", "/tenants/{tenantId}/databases/{databaseId}", Read),
    ("POST", "/tenants/{tenantId}/databases/{databaseId}/attach", Write),
    ("GET", "/tenants/{tenantId}/databases/{databaseId}/backups", Read),
    ("POST", "/tenants/{tenantId}/databases/{databaseId}/backups", Write),
    (
        "DELETE",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}",
        Write,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}",
        Read,
    ),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/download",
        Write,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/restore",
        Write,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/verify",
        Write,
    ),
    ("GET", "/tenants/{tenantId}/databases/{databaseId}/connection", Write),
    ("POST", "/tenants/{tenantId}/databases/{databaseId}/detach", Write),
    ("GET", "/tenants/{tenantId}/databases/{databaseId}/restores", Read),
    (
        "GET",
        "/tenants/{tenantId}/databases/{databaseId}/restores/{restoreId}",
        Read,
    ),
    (
        "POST",
        "/tenants/{tenantId}/databases/{databaseId}/rotate-password",
        Write,
    ),
    ("POST", "/tenants/{tenantId}/databases/{databaseId}/start", Write),
    ("POST", "/tenants/{tenantId}/databases/{databaseId}/stop", Write),
    ("GET", "/tenants/{tenantId}/databases/{databaseId}/tunnel", Write),
    ("GET", "/tenants/{tenantId}/deployments/{deploymentId}", Read),
    ("POST", "/tenants/{tenantId}/deployments/{deploymentId}/cancel", Deploy),
    ("GET", "/tenants/{tenantId}/deployments/{deploymentId}/logs", Read),
    ("POST", "/tenants/{tenantId}/deployments/{deploymentId}/retry", Deploy),
    ("GET", "/tenants/{tenantId}/deployments/{deploymentId}/stream", Read),
    ("GET", "/tenants/{tenantId}/members", Read),
    ("POST", "/tenants/{tenantId}/members", Write),
    ("DELETE", "/tenants/{tenantId}/members/{userId}", Write),
    ("PATCH", "/tenants/{tenantId}/members/{userId}", Write),
    ("GET", "/tenants/{tenantId}/projects", Read),
    ("POST", "/tenants/{tenantId}/projects", Write),
    ("POST", "/tenants/{tenantId}/projects/detect", Write),
    ("DELETE", "/tenants/{tenantId}/projects/{projectId}", Write),
    ("GET", "/tenants/{tenantId}/projects/{projectId}", Read),
    ("PATCH", "/tenants/{tenantId}/projects/{projectId}", Write),
    ("PATCH", "/tenants/{tenantId}/projects/{projectId}/build-config", Write),
    ("GET", "/tenants/{tenantId}/projects/{projectId}/deployments", Read),
    ("GET", "/tenants/{tenantId}/projects/{projectId}/domains", Read),
    ("POST", "/tenants/{tenantId}/projects/{projectId}/domains", Write),
    (
        "DELETE",
        "/tenants/{tenantId}/projects/{projectId}/domains/{domainId}",
        Write,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/domains/{domainId}/verify",
        Write,
    ),
    ("POST", "/tenants/{tenantId}/projects/{projectId}/environments", Write),
    (
        "DELETE",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}",
        Write,
    ),
    (
        "PATCH",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}",
        Write,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/access-logs",
        Read,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/access-logs/stream",
        Read,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/deployments",
        Deploy,
    ),
    (
        "POST",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/runs",
        Write,
    ),
    (
        "GET",
        "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/runtime",
        Read,
    ),
    ("GET", "/tenants/{tenantId}/projects/{projectId}/releases", Read),
    (
        "PATCH",
        "/tenants/{tenantId}/projects/{projectId}/runtime-config",
        Write,
    ),
    ("GET", "/tenants/{tenantId}/releases/{releaseId}/runtime-logs", Read),
    (
        "GET",
        "/tenants/{tenantId}/releases/{releaseId}/runtime-logs/stream",
        Read,
    ),
    ("GET", "/tenants/{tenantId}/repository-connections", Read),
    ("POST", "/tenants/{tenantId}/repository-connections", Write),
    (
        "DELETE",
        "/tenants/{tenantId}/repository-connections/{connectionId}",
        Write,
    ),
    ("GET", "/tenants/{tenantId}/repository-connections/{connectionId}", Read),
    (
        "GET",
        "/tenants/{tenantId}/repository-connections/{connectionId}/branches",
        Read,
    ),
    ("POST", "/tenants/{tenantId}/rollback", Deploy),
    ("GET", "/tenants/{tenantId}/runs/{runId}", Read),
    ("GET", "/tenants/{tenantId}/runs/{runId}/logs/stream", Read),
    ("GET", "/tenants/{tenantId}/secrets", Read),
    ("POST", "/tenants/{tenantId}/secrets", Write),
    ("DELETE", "/tenants/{tenantId}/secrets/{secretId}", Write),
    ("PATCH", "/tenants/{tenantId}/secrets/{secretId}", Write),
];

/// The scope a request to `route` (the matched pattern) with `method` needs; a route not in the
/// table needs `write`, so a forgotten one is closed, not open.
pub fn needed(method: &Method, route: &str) -> TokenScope {
    // A HEAD is answered by the GET handler, so it needs what the GET needs.
    let method = if method == Method::HEAD { &Method::GET } else { method };
    ROUTES
        .iter()
        .find(|(m, r, _)| *r == route && method.as_str() == *m)
        .map_or(Write, |(_, _, scope)| *scope)
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
    /// `METHOD /route` of this request, for the refusal's sentence.
    pub route: String,
}

impl TokenGrant {
    /// 403 naming the missing scope unless the token covers the request.
    pub fn check(&self) -> Result<(), ApiError> {
        if self.grant.covers(self.needs) {
            return Ok(());
        }
        Err(ApiError::forbidden(format!(
            "this token has the scope {}; {} needs {}",
            self.grant, self.route, self.needs
        )))
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
            let scope = needed(&method, path);
            operation
                .extensions
                .get_or_insert_with(Default::default)
                .insert("x-token-scope".to_owned(), serde_json::json!(scope.as_str()));
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
        let mut listed: Vec<String> = ROUTES.iter().map(|(m, r, _)| format!("{m} {r}")).collect();
        served.sort();
        listed.sort();
        assert_eq!(served, listed, "every route of the document has exactly one scope here");
    }

    #[test]
    fn reads_need_read_but_credentials_need_write_and_deploys_need_deploy() {
        let get = |r: &str| needed(&Method::GET, r);
        assert_eq!(get("/tenants/{tenantId}/projects"), Read);
        assert_eq!(get("/tenants/{tenantId}/deployments/{deploymentId}/stream"), Read);
        assert_eq!(get("/tenants/{tenantId}/databases/{databaseId}/connection"), Write);
        assert_eq!(get("/tenants/{tenantId}/databases/{databaseId}/tunnel"), Write);
        assert_eq!(needed(&Method::POST, "/tenants/{tenantId}/rollback"), Deploy);
        assert_eq!(needed(&Method::POST, "/tenants/{tenantId}/secrets"), Write);
        assert_eq!(needed(&Method::GET, "/no/such/route"), Write, "closed when unknown");
        assert_eq!(needed(&Method::HEAD, "/tenants/{tenantId}/projects"), Read);
        assert_eq!(
            needed(&Method::HEAD, "/tenants/{tenantId}/databases/{databaseId}/connection"),
            Write
        );
    }
}
