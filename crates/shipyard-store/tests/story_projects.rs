//! The store conformance story of repository connections, projects and environments.

mod common;

use common::{PAGE, new_project, new_user, owner_scope, public_connection};
use shipyard_core::{ConnectionId, GitUrl, ProjectId, ProjectStatus, Slug};
use shipyard_store::{
    Backend, Connections, Constraint, Environments, Jobs, NewConnection, NewEnvironment, ProjectFilter, ProjectPatch,
    Projects, SqliteStore, StoreError, Tenants, Users,
};

async fn project_story<B: Backend>(store: B) {
    let mut tx = store.write().await.expect("begin");
    let owner = tx
        .create_user(&new_user("owner@example.com", false))
        .await
        .expect("user");
    let other = tx
        .create_user(&new_user("other@example.com", false))
        .await
        .expect("user");
    let ws = tx.create_tenant("Works", &owner.id).await.expect("tenant");
    let elsewhere = tx.create_tenant("Elsewhere", &other.id).await.expect("tenant");
    let scope = tx
        .tenant_scope(&owner.id, &ws.id)
        .await
        .expect("scope")
        .expect("member");
    let foreign = tx
        .tenant_scope(&other.id, &elsewhere.id)
        .await
        .expect("scope")
        .expect("member");
    let conn = NewConnection {
        id: ConnectionId::generate(),
        name: "web".into(),
        url: GitUrl::parse("https://git.example.com/acme/web.git").expect("url"),
        default_branch: "main".into(),
        auth_kind: "token",
        auth_sealed: Some(vec![1, 2, 3]),
        webhook_secret_sealed: vec![4, 5],
    };
    let made = tx.create_connection(&scope, &conn).await.expect("connection");
    assert_eq!(made.auth_sealed.as_deref(), Some(&[1u8, 2, 3][..]));
    assert!(
        tx.connection(&foreign, &made.id).await.expect("lookup").is_none(),
        "scoped to its workspace"
    );

    let api = tx
        .create_project(&scope, &new_project("API", &made.id))
        .await
        .expect("project");
    let envs = tx.environments(&scope, &api.id).await.expect("envs");
    assert_eq!(
        (envs.len(), envs[0].slug.as_str(), envs[0].is_production),
        (1, "production", true)
    );
    assert!(matches!(
        tx.create_project(&scope, &new_project("api", &made.id)).await,
        Err(StoreError::Conflict(Constraint::ProjectSlug))
    ));
    // `api-staging` + `production` and `api` + `staging-production` would share a host label.
    let staging = NewEnvironment {
        name: "Staging".into(),
        slug: Slug::parse("staging").expect("slug"),
        branch: "dev".into(),
    };
    tx.create_environment(&scope, &api, &staging, false)
        .await
        .expect("staging");
    let mut clash = new_project("api-staging", &made.id);
    clash.production_branch = "main".into();
    let clasher = tx
        .create_project(&scope, &clash)
        .await
        .expect("no clash yet: api-staging-production");
    let evil = NewEnvironment {
        name: "x".into(),
        slug: Slug::parse("staging").expect("slug"),
        branch: "x".into(),
    };
    assert!(matches!(
        tx.create_environment(&scope, &api, &evil, false).await,
        Err(StoreError::Conflict(
            Constraint::EnvironmentSlug | Constraint::EnvironmentHost
        ))
    ));
    let prod_alias = NewEnvironment {
        name: "p".into(),
        slug: Slug::parse("staging-production").expect("slug"),
        branch: "x".into(),
    };
    assert!(matches!(
        tx.create_environment(&scope, &api, &prod_alias, false).await,
        Err(StoreError::Conflict(Constraint::EnvironmentHost))
    ));
    assert_eq!(tx.connection_usage(&scope, &made.id).await.expect("usage"), 2);

    let filter = ProjectFilter {
        search: Some("STAG".into()),
        ..ProjectFilter::default()
    };
    let found = tx.list_projects(&scope, &filter, PAGE).await.expect("list");
    assert_eq!(
        found.items.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        vec![clasher.id.clone()]
    );
    let patch = ProjectPatch {
        status: Some(ProjectStatus::Paused),
        ..ProjectPatch::default()
    };
    tx.update_project(&scope, &api.id, &patch)
        .await
        .expect("patch")
        .expect("exists");
    let paused = ProjectFilter {
        status: Some(ProjectStatus::Paused),
        ..ProjectFilter::default()
    };
    assert_eq!(tx.list_projects(&scope, &paused, PAGE).await.expect("list").total, 1);
    let only = |ids: Vec<ProjectId>| ProjectFilter {
        only: Some(ids),
        ..ProjectFilter::default()
    };
    let listed = tx
        .list_projects(&scope, &only(vec![api.id.clone()]), PAGE)
        .await
        .expect("list");
    assert_eq!((listed.total, listed.items[0].id.clone()), (1, api.id.clone()));
    assert_eq!(
        tx.list_projects(&scope, &only(vec![]), PAGE).await.expect("list").total,
        0
    );
    assert_eq!(
        tx.list_projects(&foreign, &ProjectFilter::default(), PAGE)
            .await
            .expect("list")
            .total,
        0
    );

    assert!(tx.delete_project(&scope, &api.id).await.expect("delete"));
    assert!(tx.delete_project(&scope, &clasher.id).await.expect("delete"));
    assert_eq!(tx.connection_usage(&scope, &made.id).await.expect("usage"), 0);
    assert!(tx.delete_connection(&scope, &made.id).await.expect("delete connection"));
    B::commit(tx).await.expect("commit");
}

#[tokio::test]
async fn sqlite_backend_tells_the_project_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    project_story(store).await;
}

#[tokio::test]
async fn every_project_gets_a_sandbox_uid_of_its_own_never_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    let mut tx = store.write().await.expect("begin");
    let scope = owner_scope(&mut tx, "uids@example.com", "Uids").await;
    let conn = tx
        .create_connection(&scope, &public_connection("https://git.example.com/a/b.git"))
        .await
        .expect("connection");
    let a = tx.create_project(&scope, &new_project("A", &conn.id)).await.expect("a");
    let b = tx.create_project(&scope, &new_project("B", &conn.id)).await.expect("b");
    let range = 200_000..=200_002;
    let uid_a = tx.sandbox_uid(&a.id, range.clone()).await.expect("a's uid");
    let uid_b = tx.sandbox_uid(&b.id, range.clone()).await.expect("b's uid");
    assert_eq!((uid_a, uid_b), (200_000, 200_001));
    assert_eq!(
        tx.sandbox_uid(&a.id, range.clone()).await.expect("again"),
        uid_a,
        "stable"
    );
    assert!(tx.delete_project(&scope, &a.id).await.expect("delete"));
    let c = tx.create_project(&scope, &new_project("C", &conn.id)).await.expect("c");
    let uid_c = tx.sandbox_uid(&c.id, range.clone()).await.expect("c's uid");
    assert_eq!(uid_c, 200_002, "a deleted project's uid is not handed out again");
    let d = tx.create_project(&scope, &new_project("D", &conn.id)).await.expect("d");
    match tx.sandbox_uid(&d.id, range).await {
        Err(shipyard_store::StoreError::UidsExhausted { first, last }) => assert_eq!((first, last), (200_000, 200_002)),
        other => panic!("the range is used up: {other:?}"),
    }
}
