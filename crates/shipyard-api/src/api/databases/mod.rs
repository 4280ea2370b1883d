//! Managed databases: a real PostgreSQL server per database, made in the background
//! (`provisioning → running`), started, stopped and deleted here; `…/connection` hands out
//! the one credential.

pub mod create;
pub mod lifecycle;
pub mod read;

use shipyard_api_types::databases::{DatabaseLimits, DatabaseView};
use shipyard_store::Database;

/// Where databases listen, from the server's own host.
pub const HOST: &str = "127.0.0.1";

/// The API's view of a stored database; `size_bytes` when it was read.
pub fn database_view(d: Database, size_bytes: Option<i64>) -> DatabaseView {
    DatabaseView {
        id: d.id.to_string(),
        name: d.name,
        engine: d.engine,
        version: d.version,
        status: d.status,
        host: HOST.to_owned(),
        port: d.port,
        database_name: d.database_name,
        username: d.username,
        attachments: Vec::new(),
        limits: DatabaseLimits {
            memory_mb: d.memory_mb,
            disk_mb: d.disk_mb,
        },
        size_bytes,
        error: d.error,
        last_exit_reason: d.last_exit_reason,
        created_at: d.created_at,
    }
}
