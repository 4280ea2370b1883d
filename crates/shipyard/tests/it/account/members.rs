//! Workspace members and roles.

use crate::support::{TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn owners_manage_members_and_the_last_owner_stays() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (bob, bob_id) = server.admin_created_user(&ada.session, "bob@example.com").await;
    let (carol, carol_id) = server.admin_created_user(&ada.session, "carol@example.com").await;
    assert!(
        bob.me().await.expect("me").memberships.is_empty(),
        "admin-made users start with no workspace"
    );
    let members = format!("/tenants/{}/members", ada.tenant_id);

    let added = ada
        .token
        .post(&members, &json!({ "email": "BOB@example.com", "role": "admin" }))
        .await
        .expect("request");
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        (added.body["userId"].as_str(), added.body["role"].as_str()),
        (Some(bob_id.as_str()), Some("admin"))
    );
    assert_eq!(bob.me().await.expect("me").memberships[0].tenant_id, ada.tenant_id);

    assert_error(
        &ada.token
            .post(&members, &json!({ "email": "bob@example.com", "role": "member" }))
            .await
            .expect("request"),
        409,
    );
    let unknown = ada
        .token
        .post(&members, &json!({ "email": "nobody@example.com", "role": "member" }))
        .await
        .expect("request");
    assert_error(&unknown, 422);
    assert!(unknown.body["message"].as_str().is_some_and(|m| m.contains("email")));
    let bad_role = ada
        .token
        .post(&members, &json!({ "email": "carol@example.com", "role": "god" }))
        .await
        .expect("request");
    assert_error(&bad_role, 400);
    assert!(bad_role.body["message"].as_str().is_some_and(|m| m.contains("role")));

    // An admin adds a viewer but cannot grant or touch ownership.
    assert_eq!(
        bob.post(&members, &json!({ "email": "carol@example.com", "role": "viewer" }))
            .await
            .expect("request")
            .status,
        201
    );
    let ada_member = format!("{members}/{}", ada.user_id);
    assert_error(
        &bob.patch(&ada_member, &json!({ "role": "member" }))
            .await
            .expect("request"),
        403,
    );
    assert_error(
        &bob.patch(&format!("{members}/{carol_id}"), &json!({ "role": "owner" }))
            .await
            .expect("request"),
        403,
    );
    assert_error(&bob.delete(&ada_member).await.expect("request"), 403);

    // A viewer reads but every write is refused.
    let listed = carol.get(&members).await.expect("request").ok().expect("viewer lists");
    assert_eq!(listed["total"], 3);
    let order: Vec<_> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["email"].clone())
        .collect();
    assert_eq!(
        order,
        vec![
            json!("ada@example.com"),
            json!("bob@example.com"),
            json!("carol@example.com")
        ]
    );
    assert_error(
        &carol
            .post(&members, &json!({ "email": "x@example.com", "role": "viewer" }))
            .await
            .expect("request"),
        403,
    );

    // The last owner can neither be demoted nor leave; with a second owner both work.
    let last = ada
        .token
        .patch(&ada_member, &json!({ "role": "admin" }))
        .await
        .expect("request");
    assert_error(&last, 409);
    assert!(last.body["message"].as_str().is_some_and(|m| m.contains("last owner")));
    assert_error(&ada.token.delete(&ada_member).await.expect("request"), 409);
    let promoted = ada
        .token
        .patch(&format!("{members}/{bob_id}"), &json!({ "role": "owner" }))
        .await
        .expect("request");
    assert_eq!(promoted.body["role"], "owner");
    assert_eq!(
        ada.token
            .patch(&ada_member, &json!({ "role": "admin" }))
            .await
            .expect("request")
            .status,
        200
    );

    // Anyone may leave; a removed member loses access at once.
    assert_eq!(
        carol
            .delete(&format!("{members}/{carol_id}"))
            .await
            .expect("request")
            .status,
        204
    );
    assert_error(&carol.get(&members).await.expect("request"), 404);
    assert_error(
        &bob.delete(&format!("{members}/{carol_id}")).await.expect("request"),
        404,
    );
    assert_error(&bob.get(&format!("{members}/usr_nope")).await.expect("request"), 405);
}
