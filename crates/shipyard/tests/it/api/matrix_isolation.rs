//! Isolation matrix, generated from the OpenAPI document: for every operation that takes an
//! id, a user of another workspace gets 404 (admin routes: 403), and a viewer gets 403 on
//! every write in their workspace.

use crate::api::operations::operations;
use crate::support::{TestServer, assert_error};
use serde_json::json;
use std::collections::HashMap;

/// Reads that hand out a credential: members and up only.
const CREDENTIAL_READS: &[&str] = &[
    "/tenants/{tenantId}/databases/{databaseId}/connection",
    "/tenants/{tenantId}/databases/{databaseId}/backups/{backupId}/download",
    "/tenants/{tenantId}/databases/{databaseId}/tunnel",
];

/// Reads that are protocol upgrades: a plain GET of one's own object is 400 (found, and told
/// to upgrade), never 404.
const UPGRADES: &[&str] = &["/tenants/{tenantId}/databases/{databaseId}/tunnel"];

#[tokio::test]
async fn other_workspaces_see_nothing_and_viewers_write_nothing() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let owner = server.tenant("owner@example.com", "Owned").await;
    let stranger = server.tenant("stranger@example.com", "Elsewhere").await;
    let viewer = server.tenant("viewer@example.com", "Viewer's own").await;
    let add = owner
        .token
        .post(
            &format!("/tenants/{}/members", owner.tenant_id),
            &json!({ "email": viewer.email, "role": "viewer" }),
        )
        .await
        .expect("request");
    assert_eq!(add.status, 201, "{}", add.body);
    // Ids that exist and belong to the owner's workspace.
    let fixtures: HashMap<&str, String> = owner.every_fixture(&server, "owned").await;
    let doc = server.openapi().await;
    let ops = operations(&doc);
    let with_ids: Vec<_> = ops.iter().filter(|op| !op.params.is_empty()).collect();
    assert!(
        with_ids.len() >= 5,
        "expected the id-taking routes, found {}",
        with_ids.len()
    );

    for op in &with_ids {
        let path = op.fill(&fixtures);
        // Positive control: the owner reaches every readable object, so a 404 below means
        // isolation, not a bad fixture.
        if !op.is_write() {
            let own = owner
                .session
                .call(op.method.clone(), &path, None)
                .await
                .expect("request");
            let expected = if UPGRADES.contains(&op.path.as_str()) { 400 } else { 200 };
            assert_eq!(own.status, expected, "owner on {} {path}: {}", op.method, own.body);
        }
        for (who, client) in [
            ("stranger session", &stranger.session),
            ("stranger token", &stranger.token),
        ] {
            let response = client
                .call(op.method.clone(), &path, Some(&json!({})))
                .await
                .expect("request");
            // Admin routes are closed to non-admins as a whole, and token management to tokens;
            // everything else must hide the owner's objects entirely.
            let closed_route =
                op.path.starts_with("/admin/") || (op.path.starts_with("/account/") && who == "stranger token");
            let expected = if closed_route { 403 } else { 404 };
            assert_eq!(
                response.status, expected,
                "{who} on {} {}: {}",
                op.method, op.path, response.body
            );
            assert_error(&response, expected);
        }
    }

    let tenant_writes: Vec<_> = ops
        .iter()
        .filter(|op| op.path.starts_with("/tenants/{tenantId}") && op.is_write())
        .collect();
    assert!(!tenant_writes.is_empty());
    for op in tenant_writes {
        let path = op.fill(&fixtures);
        let response = viewer
            .token
            .call(op.method.clone(), &path, Some(&json!({})))
            .await
            .expect("request");
        assert_eq!(
            response.status, 403,
            "viewer on {} {}: {}",
            op.method, op.path, response.body
        );
        assert_error(&response, 403);
    }
    for op in ops
        .iter()
        .filter(|op| op.path.starts_with("/tenants/{tenantId}") && !op.is_write())
    {
        let response = viewer.token.get(&op.fill(&fixtures)).await.expect("request");
        // Credentials are a member's: a viewer reads everything else.
        let expected = if CREDENTIAL_READS.contains(&op.path.as_str()) {
            403
        } else {
            200
        };
        assert_eq!(response.status, expected, "viewer reads {}: {}", op.path, response.body);
    }
}
