//! The store conformance story: one walk through accounts, workspaces, members, sessions and
//! tokens written against the traits alone, so every backend runs the same story.

use chrono::{Duration, Utc};
use shipyard_core::{
    BuildConfig, ConnectionId, Email, GitUrl, OpaqueToken, Password, ProjectStatus, ProjectType, Role, RuntimeConfig,
    Slug, TenantId,
};
use shipyard_store::{
    ApiTokens, Backend, Connections, Environments, Members, NewConnection, NewEnvironment, NewProject, NewUser, Page,
    ProjectFilter, ProjectPatch, Projects, Sessions, SqliteStore, StoreError, TenantPatch, Tenants, Users,
};

const PAGE: Page = Page { page: 1, per_page: 50 };

fn new_user(email: &str, admin: bool) -> NewUser {
    NewUser {
        email: Email::parse(email).expect("valid email"),
        name: email.split('@').next().unwrap_or_default().to_owned(),
        password_hash: Some(Password::parse("correct horse".into()).expect("valid").hash()),
        is_platform_admin: admin,
    }
}

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
        Err(StoreError::Conflict("users_email_key"))
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
        Err(StoreError::Conflict("memberships_pkey"))
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
        suspended: Some(true),
    };
    let patched = tx
        .update_tenant(&admin, &acme2.id, &patch)
        .await
        .expect("patch")
        .expect("exists");
    assert_eq!((patched.deploys_per_day, patched.suspended), (5, true));
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
            "ci",
            &token.display_prefix(),
            &token.hash,
            Some(now + Duration::days(30)),
        )
        .await
        .expect("token");
    let (user, found) = tx.token_user(&token.hash, now).await.expect("lookup").expect("live");
    assert_eq!((user.id, found.id.clone()), (bob.id.clone(), made.id.clone()));
    assert!(
        tx.token_user(&token.hash, now + Duration::days(31))
            .await
            .expect("lookup")
            .is_none()
    );
    tx.touch_token(&made.id, now).await.expect("touch");
    let listed = tx.list_tokens(&bob.id, PAGE).await.expect("list");
    assert_eq!(
        listed.items[0].last_used_at.map(|t| t.timestamp()),
        Some(now.timestamp())
    );
    assert!(
        !tx.delete_token(&ada.id, &made.id).await.expect("foreign delete"),
        "ada cannot revoke bob's token"
    );
    assert!(tx.delete_token(&bob.id, &made.id).await.expect("delete"));
    assert!(tx.token_user(&token.hash, now).await.expect("lookup").is_none());
    B::commit(tx).await.expect("commit");
}

fn new_project(name: &str, connection: &ConnectionId) -> NewProject {
    NewProject {
        name: name.to_owned(),
        slug: Slug::from_name(name, "project"),
        description: String::new(),
        project_type: ProjectType::Node,
        connection_id: connection.clone(),
        build: BuildConfig::default(),
        runtime: RuntimeConfig::defaults(ProjectType::Node.runtime_type()),
        detection: None,
        production_branch: "main".into(),
    }
}

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
        Err(StoreError::Conflict("projects_slug_key"))
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
        Err(StoreError::Conflict("environments_slug_key" | "environments_host_key"))
    ));
    let prod_alias = NewEnvironment {
        name: "p".into(),
        slug: Slug::parse("staging-production").expect("slug"),
        branch: "x".into(),
    };
    assert!(matches!(
        tx.create_environment(&scope, &api, &prod_alias, false).await,
        Err(StoreError::Conflict("environments_host_key"))
    ));
    assert_eq!(tx.connection_usage(&scope, &made.id).await.expect("usage"), 2);

    let filter = ProjectFilter {
        search: Some("STAG".into()),
        status: None,
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
        search: None,
        status: Some(ProjectStatus::Paused),
    };
    assert_eq!(tx.list_projects(&scope, &paused, PAGE).await.expect("list").total, 1);
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

async fn secret_story<B: Backend>(store: B) {
    use shipyard_core::{EnvVarName, SecretBox, SecretScope};
    use shipyard_store::secrets::{redaction_values, resolve, secret_aad};
    use shipyard_store::{NewSecret, SecretFilter, Secrets};

    let secret_box = SecretBox::new(&SecretBox::generate_key()).expect("key");
    let mut tx = store.write().await.expect("begin");
    let owner = tx
        .create_user(&new_user("keeper@example.com", false))
        .await
        .expect("user");
    let ws = tx.create_tenant("Vault", &owner.id).await.expect("tenant");
    let scope = tx
        .tenant_scope(&owner.id, &ws.id)
        .await
        .expect("scope")
        .expect("member");
    let conn_id = ConnectionId::generate();
    let credential = secret_box.seal(
        b"ghp_repoTokenValue",
        &shipyard_store::secrets::credential_aad(&ws.id, &conn_id, "token"),
    );
    let conn = NewConnection {
        id: conn_id,
        name: "r".into(),
        url: GitUrl::parse("https://git.example.com/r.git").expect("url"),
        default_branch: "main".into(),
        auth_kind: "token",
        auth_sealed: Some(credential),
        webhook_secret_sealed: vec![0],
    };
    let conn = tx.create_connection(&scope, &conn).await.expect("connection");
    let project = tx
        .create_project(&scope, &new_project("app", &conn.id))
        .await
        .expect("project");
    let prod = tx.environments(&scope, &project.id).await.expect("envs").remove(0);
    let make = |name: &str, kind: SecretScope, value: &str| {
        let target = match kind {
            SecretScope::Workspace => String::new(),
            SecretScope::Project => project.id.to_string(),
            SecretScope::Environment => prod.id.to_string(),
        };
        NewSecret {
            name: EnvVarName::parse(name).expect("name"),
            scope: kind,
            project_id: (kind != SecretScope::Workspace).then(|| project.id.clone()),
            environment_id: (kind == SecretScope::Environment).then(|| prod.id.clone()),
            sealed: secret_box.seal(value.as_bytes(), &secret_aad(&ws.id, kind, &target, name)),
        }
    };
    tx.create_secret(&scope, &make("API_URL", SecretScope::Workspace, "https://ws.example"))
        .await
        .expect("ws");
    tx.create_secret(
        &scope,
        &make("API_URL", SecretScope::Project, "https://project.example"),
    )
    .await
    .expect("project");
    let env_secret = tx
        .create_secret(
            &scope,
            &make("API_URL", SecretScope::Environment, "https://env.example"),
        )
        .await
        .expect("env");
    let shared = tx
        .create_secret(&scope, &make("SHARED", SecretScope::Workspace, "shared-v1"))
        .await
        .expect("shared");
    let dup = tx
        .create_secret(&scope, &make("SHARED", SecretScope::Workspace, "again"))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict("secrets_name_key"))), "{dup:?}");

    // Precedence: environment over project over workspace.
    let resolved = resolve(&mut tx, &scope, &secret_box, &project.id, &prod.id)
        .await
        .expect("resolve");
    let view: Vec<_> = resolved
        .iter()
        .map(|r| (r.name.as_str(), r.value.as_str(), r.version))
        .collect();
    assert_eq!(
        view,
        vec![("API_URL", "https://env.example", 1), ("SHARED", "shared-v1", 1)]
    );

    // Versions: a PATCH makes v2; a release pins v2; DELETE keeps v2 only.
    let sealed = |v: &str| secret_box.seal(v.as_bytes(), &secret_aad(&ws.id, SecretScope::Workspace, "", "SHARED"));
    let v2 = tx
        .add_secret_version(&scope, &shared.id, &sealed("shared-v2"))
        .await
        .expect("v2")
        .expect("exists");
    assert_eq!(v2.version, 2);
    tx.pin_secret_versions(&scope, "rel_test", &[(shared.id.clone(), 2)])
        .await
        .expect("pin");
    tx.add_secret_version(&scope, &shared.id, &sealed("shared-v3"))
        .await
        .expect("v3");
    assert!(tx.delete_secret(&scope, &shared.id).await.expect("delete"));
    assert!(
        tx.secret(&scope, &shared.id).await.expect("lookup").is_none(),
        "deleted secrets are gone from view"
    );
    let pinned = tx.release_secret_versions(&scope, "rel_test").await.expect("pinned");
    assert_eq!(
        pinned.iter().map(|p| (p.name.as_str(), p.version)).collect::<Vec<_>>(),
        vec![("SHARED", 2)]
    );
    let mut values = redaction_values(&mut tx, &scope, &secret_box).await.expect("values");
    values.sort();
    assert!(
        values.contains(&"shared-v2".to_owned()),
        "a retained version is still redacted"
    );
    assert!(
        !values.contains(&"shared-v1".to_owned()) && !values.contains(&"shared-v3".to_owned()),
        "unpinned versions are gone"
    );
    let resolved = resolve(&mut tx, &scope, &secret_box, &project.id, &prod.id)
        .await
        .expect("resolve");
    assert!(
        resolved.iter().all(|r| r.name.as_str() != "SHARED"),
        "a deleted secret no longer applies"
    );
    let redactor = shipyard_store::secrets::redactor(&mut tx, &scope, &secret_box)
        .await
        .expect("redactor");
    assert_eq!(
        redactor.redact("pushing with ghp_repoTokenValue, env https://env.example, old shared-v2"),
        "pushing with ****, env ****, old ****"
    );
    // The name is free again.
    tx.create_secret(&scope, &make("SHARED", SecretScope::Workspace, "new"))
        .await
        .expect("name reusable");

    let only_env = SecretFilter {
        environment_id: Some(prod.id.clone()),
        ..SecretFilter::default()
    };
    let listed = tx.list_secrets(&scope, &only_env, PAGE).await.expect("list");
    assert_eq!(
        listed.items.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        vec![env_secret.id]
    );
    B::commit(tx).await.expect("commit");
}

#[tokio::test]
async fn sqlite_backend_tells_the_secret_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    secret_story(store).await;
}

#[tokio::test]
async fn sqlite_backend_tells_the_project_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    project_story(store).await;
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
