//! Shipyard's domain values: typed ids, parsed names, roles, the secret box, password hashing
//! and opaque tokens. Pure computation only; nothing here touches the disk or the network.
#![forbid(unsafe_code)]

pub mod backup;
pub mod custom_domain;
pub mod database;
pub mod deployment;
pub mod detection;
pub mod email;
pub mod error;
pub mod git_url;
pub mod ids;
pub mod live_host;
pub mod log_line;
pub mod password;
pub mod project;
pub mod redact;
pub mod rel_path;
pub mod release_config;
pub mod role;
pub mod secret;
pub mod secret_box;
pub mod secret_rules;
pub mod size;
pub mod slug;
pub mod token;
pub mod token_scope;

pub use backup::{BackupKind, JobStatus, RestoreTarget};
pub use database::{DATABASE_HOST, DatabaseStatus, database_url};
pub use deployment::{DeploymentStatus, DeploymentTrigger};
pub use email::Email;
pub use error::DomainError;
pub use git_url::{GitTransport, GitUrl};
pub use ids::{
    BackupId, ConnectionId, DatabaseId, DeploymentId, DomainId, EnvironmentId, ProjectId, ReleaseId, RestoreId, RunId,
    SecretId, TenantId, TokenId, UserId,
};
pub use live_host::HostLabel;
pub use password::{Password, PasswordHash};
pub use project::{
    BuildConfig, Limits, PackageManager, ProjectStatus, ProjectType, RELEASE_TOOLS_DIR, RuntimeConfig, RuntimeType,
};
pub use redact::{LineRedactor, Redactor};
pub use release_config::{PinnedAttachment, PinnedSecret, ReleaseConfig};
pub use role::Role;
pub use secrecy::{ExposeSecret, SecretString};
pub use secret::{EnvVarName, SecretScope};
pub use secret_box::{SecretBox, SecretBoxError};
pub use slug::Slug;
pub use token::OpaqueToken;
pub use token_scope::TokenScope;
