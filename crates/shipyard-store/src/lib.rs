//! Shipyard's storage. Traits by aggregate (`Users`, `Tenants`, `Members`, `Sessions`,
//! `ApiTokens`) are implemented by a transaction handle, so several writes commit as one or
//! not at all; `TenantScope` is the only way to reach a workspace's data.
#![forbid(unsafe_code)]

pub mod attached;
pub mod data_dir;
pub mod error;
pub mod layout;
pub mod logs;
pub mod model;
pub mod scope;
pub mod secrets;
pub mod sqlite;
pub mod traits;

pub use data_dir::{DataDir, DataDirError};
pub use error::{Constraint, StoreError};
pub use layout::Layout;
pub use model::{
    ApiToken, Connection, Environment, Member, Membership, NewConnection, NewEnvironment, NewProject, NewToken,
    NewUser, Page, Paged, Project, ProjectFilter, ProjectPatch, StorageOwners, Tenant, TenantPatch, User,
};
pub use model::{
    Attachment, Backup, BackupUpdate, Database, DatabaseState, DnsLook, Domain, DueDomain, NewDatabase, NewDomain,
    NewRestore, Restore, Rotation,
};
pub use model::{Certificate, IssuedCertificate};
pub use model::{
    ClaimedJob, Deployment, DeploymentEvent, DeploymentFilter, DeploymentUpdate, InterruptedJob, LiveRoute,
    NewDeployment, NewRelease, Release, Transition,
};
pub use model::{NewSecret, ResolvedSecret, SealedSecretValue, Secret, SecretFilter};
pub use scope::{AdminScope, TenantScope};
pub use sqlite::{SqliteStore, Tx};
pub use traits::{
    ApiTokens, Attachments, Backend, Backups, Certificates, Connections, Databases, Deployments, Domains, Environments,
    Jobs, LiveRoutes, Members, Projects, Releases, Secrets, Sessions, Tenants, Users,
};

/// Result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
