//! Scoped tokens, generated from the OpenAPI document: a `read` token gets 403 on every write
//! of a workspace and reads everything but credentials; a `deploy` token may trigger, cancel,
//! retry and roll back and nothing else that writes; a foreign workspace stays 404 for both.
//! The default token (`write`) is the one every other matrix uses, unchanged.

use crate::api::operations::operations;
use crate::support::{TestServer, assert_error};
use serde_json::json;
use shipyard_core::TokenScope;
use std::collections::HashMap;

/// Reads that hand out a credential or data wholesale: they need `write`.
const WHOLESALE_READS: &[&str] = &[
    "/tenants/{tenantId}/databases/{databaseId}/connection",
    "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/download",
    "/tenants/{tenantId}/databases/{databaseId}/tunnel",
];

/// The writes a `deploy` token may make.
const DEPLOYS: &[&str] = &[
    "/tenants/{tenantId}/projects/{projectId}/environments/{environmentId}/deployments",
    "/tenants/{tenantId}/deployments/{deploymentId}/cancel",
    "/tenants/{tenantId}/deployments/{deploymentId}/retry",
    "/tenants/{tenantId}/rollback",
];

#[tokio::test]
async fn scoped_tokens_do_what_their_scopes_say_and_nothing_else() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let owner = server.tenant("owner@example.com", "Owned").await;
    let stranger = server.tenant("stranger@example.com", "Elsewhere").await;
    let fixtures: HashMap<&str, String> = owner.every_fixture(&server, "owned").await;

    let scoped = |client: &shipyard_client::Client, name: &'static str, scope: TokenScope| {
        let client = client.clone();
        async move {
            let made = client
                .make_scoped_token(name, None, Some(vec![scope]))
                .await
                .expect("scoped token");
            assert_eq!(made.scopes, vec![scope]);
            client.with_token(made.token)
        }
    };
    let read = scoped(&owner.session, "read-only", TokenScope::Read).await;
    let deploy = scoped(&owner.session, "ci", TokenScope::Deploy).await;
    let stranger_read = scoped(&stranger.session, "theirs", TokenScope::Read).await;

    let doc = server.openapi().await;
    let ops: Vec<_> = operations(&doc)
        .into_iter()
        .filter(|op| op.path.starts_with("/tenants/{tenantId}"))
        .collect();
    assert!(ops.len() >= 40, "the workspace routes: {}", ops.len());
    for op in &ops {
        let path = op.fill(&fixtures);
        let scope = doc["paths"][&op.path][op.method.as_str().to_lowercase()]["x-token-scope"].clone();
        let wholesale = WHOLESALE_READS.contains(&op.path.as_str());
        if op.is_write() || wholesale {
            let refused = read
                .call(op.method.clone(), &path, Some(&json!({})))
                .await
                .expect("request");
            assert_eq!(
                refused.status, 403,
                "read token on {} {}: {}",
                op.method, op.path, refused.body
            );
            assert_error(&refused, 403);
            let message = refused.body["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("this token has the scope read;") && message.contains(" needs "),
                "the refusal names the missing scope: {message}"
            );
        } else {
            let allowed = read.call(op.method.clone(), &path, None).await.expect("request");
            assert_eq!(allowed.status, 200, "read token reads {}: {}", op.path, allowed.body);
            assert_eq!(scope, "read", "{}: the document names the scope", op.path);
        }
        if op.is_write() && !DEPLOYS.contains(&op.path.as_str()) {
            let refused = deploy
                .call(op.method.clone(), &path, Some(&json!({})))
                .await
                .expect("request");
            assert_eq!(
                refused.status, 403,
                "deploy token on {} {}: {}",
                op.method, op.path, refused.body
            );
            assert_eq!(
                scope, "write",
                "{} {}: the document names the scope",
                op.method, op.path
            );
        }
        // A foreign workspace's objects are 404 for a scoped token too, never 403.
        let foreign = stranger_read
            .call(op.method.clone(), &path, Some(&json!({})))
            .await
            .expect("request");
        assert_eq!(
            foreign.status, 404,
            "a stranger's read token on {} {}: {}",
            op.method, op.path, foreign.body
        );
    }

    // Scope is checked once the object is found: in its own workspace, a read token naming a
    // missing or foreign object gets 404 like anyone, never 403.
    let stranger_project = stranger.project_fixture(&server, "theirs").await.project_id;
    for (method, path) in [
        (
            reqwest::Method::DELETE,
            format!("/tenants/{}/projects/{stranger_project}", owner.tenant_id),
        ),
        (
            reqwest::Method::DELETE,
            format!(
                "/tenants/{}/secrets/sec_00000000000000000000000000000000",
                owner.tenant_id
            ),
        ),
        (
            reqwest::Method::POST,
            format!("/tenants/{}/deployments/DEP-9999/cancel", owner.tenant_id),
        ),
    ] {
        let missing = read
            .call(method.clone(), &path, Some(&json!({})))
            .await
            .expect("request");
        assert_eq!(missing.status, 404, "read token on {method} {path}: {}", missing.body);
    }
    // A HEAD is a read.
    let head = read
        .call(
            reqwest::Method::HEAD,
            &format!("/tenants/{}/projects", owner.tenant_id),
            None,
        )
        .await
        .expect("request");
    assert_eq!(head.status, 200, "HEAD with a read token");

    // The deploy token's own writes go through (whatever the state makes of them), never 403.
    for path in DEPLOYS {
        let op = ops
            .iter()
            .find(|op| op.path == *path && op.is_write())
            .expect("a deploy route");
        let body = if path.ends_with("/rollback") {
            json!({ "releaseId": fixtures["releaseId"] })
        } else {
            json!({})
        };
        let done = deploy
            .call(op.method.clone(), &op.fill(&fixtures), Some(&body))
            .await
            .expect("request");
        assert_ne!(done.status, 403, "deploy token on {path}: {}", done.body);
        assert!(done.status < 500, "deploy token on {path}: {}", done.body);
        assert_eq!(doc["paths"][*path]["post"]["x-token-scope"], "deploy");
    }

    // The list shows each token's scopes and where it was last used from.
    let listed = owner
        .session
        .get("/account/api-tokens")
        .await
        .expect("request")
        .ok()
        .expect("list");
    let read_row = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["name"] == "read-only")
        .expect("the read token is listed")
        .clone();
    assert_eq!(read_row["scopes"], json!(["read"]));
    assert_eq!(read_row["lastUsedIp"], "127.0.0.1");
    let default_row = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["name"] == "tests")
        .cloned();
    assert_eq!(default_row.expect("the default token")["scopes"], json!(["write"]));

    // Scopes a token cannot have are refused.
    for scopes in [json!([]), json!(["admin"]), json!("read")] {
        let bad = owner
            .session
            .post("/account/api-tokens", &json!({ "name": "bad", "scopes": scopes }))
            .await
            .expect("request");
        assert_eq!(bad.status, 400, "{scopes}: {}", bad.body);
    }
}
