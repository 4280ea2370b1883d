//! The rows the store hands out, already parsed into domain types.

mod accounts;
mod backups;
mod certificates;
mod databases;
mod deployments;
mod domains;
mod projects;
mod secrets;

pub use accounts::{ApiToken, Member, Membership, NewToken, NewUser, StorageOwners, Tenant, TenantPatch, User};
pub use backups::{Backup, BackupUpdate, NewRestore, Restore};
pub use certificates::{Certificate, IssuedCertificate};
pub use databases::{Attachment, Database, DatabaseState, NewDatabase, Rotation};
pub use deployments::{
    ClaimedJob, Deployment, DeploymentEvent, DeploymentFilter, DeploymentUpdate, InterruptedJob, LiveRoute,
    NewDeployment, NewRelease, Release, Transition,
};
pub use domains::{DnsLook, Domain, DueDomain, NewDomain};
pub use projects::{
    Connection, Environment, NewConnection, NewEnvironment, NewProject, Project, ProjectFilter, ProjectPatch,
};
pub use secrets::{NewSecret, ResolvedSecret, SealedSecretValue, Secret, SecretFilter};

/// Which page of a list to read.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
}

impl Page {
    /// Rows to skip.
    pub fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

/// One page of a list and the total across pages.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    /// This page's items.
    pub items: Vec<T>,
    /// Items across all pages.
    pub total: i64,
}
