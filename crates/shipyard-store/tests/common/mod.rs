//! Helpers shared by the store's conformance stories.
#![allow(dead_code, reason = "each story binary uses a different subset")]

use shipyard_core::{BuildConfig, ConnectionId, Email, Password, ProjectType, RuntimeConfig, Slug};
use shipyard_store::{NewProject, NewUser, Page};

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
