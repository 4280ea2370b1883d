//! The storage traits, one per aggregate. Every method runs inside the transaction it is
//! called on; nothing is visible to others until `Backend::commit`.

mod accounts;
mod attachments;
mod backups;
mod certificates;
mod databases;
mod deployments;
mod domains;
mod projects;
mod routes;
mod secrets;

pub use accounts::{ApiTokens, Members, Sessions, Tenants, Users};
pub use attachments::Attachments;
pub use backups::Backups;
pub use certificates::Certificates;
pub use databases::Databases;
pub use deployments::{Deployments, Jobs, Releases};
pub use domains::Domains;
pub use projects::{Connections, Environments, Projects};
pub use routes::LiveRoutes;
pub use secrets::Secrets;

use crate::Result;
use std::future::Future;

/// A storage backend: hands out transactions that implement every aggregate trait.
pub trait Backend: Clone + Send + Sync + 'static {
    /// The transaction handle.
    type Tx: Users
        + Tenants
        + Members
        + Sessions
        + ApiTokens
        + Connections
        + Projects
        + Environments
        + Secrets
        + Deployments
        + Jobs
        + Releases
        + LiveRoutes
        + Databases
        + Attachments
        + Send;

    /// A transaction for reads.
    fn read(&self) -> impl Future<Output = Result<Self::Tx>> + Send;
    /// A transaction that will write: takes the write lock up front, so concurrent writers
    /// queue instead of failing half-way.
    fn write(&self) -> impl Future<Output = Result<Self::Tx>> + Send;
    /// Makes every write of `tx` visible at once.
    fn commit(tx: Self::Tx) -> impl Future<Output = Result<()>> + Send;
}
