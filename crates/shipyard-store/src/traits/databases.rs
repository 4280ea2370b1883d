//! Managed databases; the workspace's own methods are confined to its scope, the platform's
//! (what to run at start, a status the supervisor saw) are not.

use crate::Result;
use crate::model::{Database, DatabaseState, NewDatabase, Page, Paged};
use crate::scope::TenantScope;
use shipyard_core::DatabaseId;
use std::future::Future;

/// Managed databases.
pub trait Databases {
    /// Stores a new database as `provisioning`; `Conflict(DatabaseName)` when the name is
    /// taken in the workspace, `Conflict(DatabasePort)` when the port is another's.
    fn create_database(
        &mut self,
        scope: &TenantScope,
        new: &NewDatabase,
    ) -> impl Future<Output = Result<Database>> + Send;
    /// The workspace's databases, oldest first.
    fn list_databases(
        &mut self,
        scope: &TenantScope,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Database>>> + Send;
    /// One of the workspace's databases.
    fn database(
        &mut self,
        scope: &TenantScope,
        id: &DatabaseId,
    ) -> impl Future<Output = Result<Option<Database>>> + Send;
    /// How many databases the workspace holds, and how many it may.
    fn database_count(&mut self, scope: &TenantScope) -> impl Future<Output = Result<(i64, i64)>> + Send;
    /// What the workspace's databases hold: (MiB of memory of those provisioning or running,
    /// MiB of disk of all of them).
    fn database_holdings(&mut self, scope: &TenantScope) -> impl Future<Output = Result<(i64, i64)>> + Send;
    /// Removes a database's row; false when there was none.
    fn delete_database(&mut self, scope: &TenantScope, id: &DatabaseId) -> impl Future<Output = Result<bool>> + Send;
    /// Every database of the platform whose status is one of `statuses` (what `serve` starts).
    fn databases_in(
        &mut self,
        statuses: &[shipyard_core::DatabaseStatus],
    ) -> impl Future<Output = Result<Vec<Database>>> + Send;
    /// Stores a rotated login; None when the database is gone.
    fn rotate_login(
        &mut self,
        scope: &TenantScope,
        id: &DatabaseId,
        rotation: &crate::model::Rotation,
    ) -> impl Future<Output = Result<Option<Database>>> + Send;
    /// Every port a database holds.
    fn database_ports(&mut self) -> impl Future<Output = Result<Vec<u16>>> + Send;
    /// Records a status the platform moved a database to; None when the database is gone.
    fn set_database_state(
        &mut self,
        id: &DatabaseId,
        state: &DatabaseState,
    ) -> impl Future<Output = Result<Option<Database>>> + Send;
    /// The uid a database runs as: recorded beside the projects' (one table), so no project
    /// and no other database ever gets it.
    fn database_uid(
        &mut self,
        id: &DatabaseId,
        range: std::ops::RangeInclusive<u32>,
    ) -> impl Future<Output = Result<u32>> + Send;
}
