//! The store conformance story of accounts: users, workspaces, members, sessions and tokens,
//! written against the traits alone, so every backend runs the same story.

mod common;

use chrono::{Duration, Utc};
use common::{PAGE, new_user};
use shipyard_core::{Email, OpaqueToken, Role, TenantId};
use shipyard_store::{ApiTokens, Backend, Members, Sessions, SqliteStore, StoreError, TenantPatch, Tenants, Users};

async fn story<B: Backend>(store: B) {
    // Users: the first one, a duplicate email, lookups.
    let mut tx = store.write().await.expect("begin");
    assert_eq!(tx.count_users().await.expect("count"), 0);
    let ada = tx
        .create_user(&new_user("ada@example.com", true))
        .await
        .expect("create ada");
    let bob = tx
        .create_user(&new_user("bob@example.com", false))
        .await
        .expect("create bob");
    assert!(matches!(
        tx.create_user(&new_user("ADA@example.com", false)).await,
        Err(StoreError::Conflict(shipyard_store::Constraint::UserEmail))
    ));
    B::commit(tx).await.expect("commit");

    // Nothing of an uncommitted transaction survives.
    let mut tx = store.write().await.expect("begin");
    tx.create_user(&new_user("ghost@example.com", false))
        .await
        .expect("create ghost");
    drop(tx);
    let mut tx = store.read().await.expect("begin");
    assert_eq!(tx.count_users().await.expect("count"), 2);
    assert!(
        tx.user_by_email(&Email::parse("ghost@example.com").expect("valid"))
            .await
            .expect("lookup")
            .is_none()
    );
    drop(tx);

    // Workspaces: two of the same name get distinct slugs; memberships in joining order.
    let mut tx = store.write().await.expect("begin");
    let acme = tx.create_tenant("Acme", &ada.id).await.expect("acme");
    let acme2 = tx.create_tenant("Acme", &bob.id).await.expect("second acme");
    assert_eq!(acme.slug.as_str(), "acme");
    assert!(
        acme2.slug.as_str().starts_with("acme-") && acme2.slug.as_str().len() == 9,
        "{}",
        acme2.slug
    );
    let ada_in_acme = tx
        .tenant_scope(&ada.id, &acme.id)
        .await
        .expect("scope")
        .expect("ada is a member");
    assert_eq!(ada_in_acme.role(), Role::Owner);
    assert!(
        tx.tenant_scope(&ada.id, &acme2.id).await.expect("scope").is_none(),
        "no scope without membership"
    );
    assert!(
        tx.tenant_scope(&ada.id, &TenantId::generate())
            .await
            .expect("scope")
            .is_none()
    );
    tx.add_member(&ada_in_acme, &bob.id, Role::Viewer)
        .await
        .expect("add bob");
    assert!(matches!(
        tx.add_member(&ada_in_acme, &bob.id, Role::Member).await,
        Err(StoreError::Conflict(shipyard_store::Constraint::Membership))
    ));
    B::commit(tx).await.expect("commit");

    let mut tx = store.write().await.expect("begin");
    let bob_ws: Vec<_> = tx
        .memberships(&bob.id)
        .await
        .expect("memberships")
        .into_iter()
        .map(|m| m.tenant_id)
        .collect();
    assert_eq!(bob_ws, vec![acme2.id.clone(), acme.id.clone()]);
    let scope = tx
        .tenant_scope(&ada.id, &acme.id)
        .await
        .expect("scope")
        .expect("member");
    assert_eq!(tx.count_owners(&scope).await.expect("owners"), 1);
    let promoted = tx
        .set_member_role(&scope, &bob.id, Role::Owner)
        .await
        .expect("promote")
        .expect("member");
    assert_eq!(promoted.role, Role::Owner);
    assert_eq!(tx.count_owners(&scope).await.expect("owners"), 2);
    let listed = tx.list_members(&scope, PAGE).await.expect("list");
    assert_eq!((listed.total, listed.items.len()), (2, 2));
    assert!(tx.remove_member(&scope, &bob.id).await.expect("remove"));
    assert!(!tx.remove_member(&scope, &bob.id).await.expect("remove again"));
    assert_eq!(
        tx.owned_tenant_named(&ada.id, "Acme")
            .await
            .expect("owned")
            .map(|t| t.id),
        Some(acme.id.clone())
    );
    assert!(tx.owned_tenant_named(&bob.id, "Nope").await.expect("owned").is_none());
    B::commit(tx).await.expect("commit");

    // Admin capability and workspace settings.
    let mut tx = store.write().await.expect("begin");
    assert!(tx.admin_scope(&bob.id).await.expect("scope").is_none());
    let admin = tx.admin_scope(&ada.id).await.expect("scope").expect("ada is admin");
    let patch = TenantPatch {
        deploys_per_day: Some(5),
        memory_mb_limit: Some(1024),
        storage_gb_limit: None,
        max_databases: Some(7),
        suspended: Some(true),
    };
    let patched = tx
        .update_tenant(&admin, &acme2.id, &patch)
        .await
        .expect("patch")
        .expect("exists");
    assert_eq!(
        (
            patched.deploys_per_day,
            patched.memory_mb_limit,
            patched.max_databases,
            patched.suspended
        ),
        (5, 1024, 7, true)
    );
    assert!(
        tx.update_tenant(&admin, &TenantId::generate(), &patch)
            .await
            .expect("patch")
            .is_none()
    );
    assert_eq!(tx.list_tenants(&admin, PAGE).await.expect("tenants").total, 2);
    assert_eq!(tx.list_users(&admin, PAGE).await.expect("users").total, 2);
    B::commit(tx).await.expect("commit");

    // Sessions and tokens: live, expired, revoked.
    let now = Utc::now();
    let mut tx = store.write().await.expect("begin");
    let session = OpaqueToken::generate("");
    tx.create_session(&ada.id, &session.hash, now + Duration::days(1))
        .await
        .expect("session");
    assert_eq!(
        tx.session_user(&session.hash, now).await.expect("lookup").map(|u| u.id),
        Some(ada.id.clone())
    );
    assert!(
        tx.session_user(&session.hash, now + Duration::days(2))
            .await
            .expect("lookup")
            .is_none()
    );
    tx.delete_session(&session.hash).await.expect("logout");
    assert!(tx.session_user(&session.hash, now).await.expect("lookup").is_none());

    let token = OpaqueToken::generate("shpat_");
    let made = tx
        .create_token(
            &bob.id,
            &shipyard_store::NewToken {
                name: "ci",
                prefix: &token.display_prefix(),
                token_hash: &token.hash,
                expires_at: Some(now + Duration::days(30)),
                scopes: &[shipyard_core::TokenScope::Read],
                projects: None,
            },
        )
        .await
        .expect("token");
    assert_eq!(made.scopes, vec![shipyard_core::TokenScope::Read]);
    let (user, found) = tx.token_user(&token.hash, now).await.expect("lookup").expect("live");
    assert_eq!((user.id, found.id.clone()), (bob.id.clone(), made.id.clone()));
    assert!(
        tx.token_user(&token.hash, now + Duration::days(31))
            .await
            .expect("lookup")
            .is_none()
    );
    tx.touch_token(&made.id, now, Some("127.0.0.1")).await.expect("touch");
    let listed = tx.list_tokens(&bob.id, PAGE).await.expect("list");
    assert_eq!(
        listed.items[0].last_used_at.map(|t| t.timestamp()),
        Some(now.timestamp())
    );
    assert_eq!(listed.items[0].last_used_ip.as_deref(), Some("127.0.0.1"));
    assert!(
        !tx.delete_token(&ada.id, &made.id).await.expect("foreign delete"),
        "ada cannot revoke bob's token"
    );
    assert!(tx.delete_token(&bob.id, &made.id).await.expect("delete"));
    assert!(tx.token_user(&token.hash, now).await.expect("lookup").is_none());
    B::commit(tx).await.expect("commit");
}

#[tokio::test]
async fn sqlite_backend_tells_the_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    story(store.clone()).await;
    store.close().await;
    // Migrations are idempotent: reopening an existing database works.
    SqliteStore::open(&dir.path().join("shipyard.db"))
        .await
        .expect("reopen");
}
