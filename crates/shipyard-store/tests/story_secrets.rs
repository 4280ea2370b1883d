//! The store conformance story of secrets: precedence, versions, pins, redaction values.

mod common;

use common::{PAGE, new_project, new_user};
use shipyard_core::{ConnectionId, ExposeSecret, GitUrl};
use shipyard_store::{
    Backend, Connections, Environments, NewConnection, Projects, SqliteStore, StoreError, Tenants, Users,
};

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
    assert!(
        matches!(dup, Err(StoreError::Conflict(shipyard_store::Constraint::SecretName))),
        "{dup:?}"
    );

    // Precedence: environment over project over workspace.
    let resolved = resolve(&mut tx, &scope, &secret_box, &project.id, &prod.id)
        .await
        .expect("resolve");
    let view: Vec<_> = resolved
        .iter()
        .map(|r| (r.name.as_str(), r.value.expose_secret(), r.version))
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
