//! Helpers shared by the store's conformance stories.
#![allow(dead_code, reason = "each story binary uses a different subset")]

use shipyard_core::{BuildConfig, ConnectionId, Email, GitUrl, Password, ProjectType, RuntimeConfig, Slug};
use shipyard_store::{NewConnection, NewProject, NewUser, Page, TenantScope, Tenants, Users};

pub const PAGE: Page = Page { page: 1, per_page: 50 };

pub fn new_user(email: &str, admin: bool) -> NewUser {
    NewUser {
        email: Email::parse(email).expect("valid email"),
        name: email.split('@').next().unwrap_or_default().to_owned(),
        password_hash: Some(Password::parse("correct horse".into()).expect("valid").hash()),
        is_platform_admin: admin,
    }
}

pub fn new_project(name: &str, connection: &ConnectionId) -> NewProject {
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

/// A new user who owns a new workspace, and their scope in it.
pub async fn owner_scope(tx: &mut (impl Users + Tenants), email: &str, workspace: &str) -> TenantScope {
    let owner = tx.create_user(&new_user(email, false)).await.expect("user");
    let ws = tx.create_tenant(workspace, &owner.id).await.expect("tenant");
    tx.tenant_scope(&owner.id, &ws.id)
        .await
        .expect("scope")
        .expect("member")
}

/// A public repository connection (no credential).
pub fn public_connection(url: &str) -> NewConnection {
    NewConnection {
        id: ConnectionId::generate(),
        name: "web".into(),
        url: GitUrl::parse(url).expect("url"),
        default_branch: "main".into(),
        auth_kind: "none",
        auth_sealed: None,
        webhook_secret_sealed: vec![4, 5],
    }
}
