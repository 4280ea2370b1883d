//! What can go wrong with a managed database, in sentences a user can act on.

use thiserror::Error;

/// A managed database's error.
#[derive(Debug, Error)]
pub enum DatabaseError {
    /// Only PostgreSQL is offered.
    #[error("engine `{0}` is not offered: the engine is `postgres`")]
    UnknownEngine(String),
    /// The host has no PostgreSQL server binaries.
    #[error(
        "this host has no PostgreSQL server binaries: install the `postgresql` package (apt-get install postgresql)"
    )]
    NoServer,
    /// A major the host does not have.
    #[error("PostgreSQL {asked} is not installed on this host; it offers {offered}")]
    UnknownVersion {
        /// What was asked.
        asked: String,
        /// What is installed.
        offered: String,
    },
    /// Databases need the sandbox (their own uid, cgroup and disk).
    #[error("managed databases need the sandbox: this server runs with --insecure-no-sandbox")]
    Unconfined,
    /// No loopback port was free.
    #[error("no free loopback port for the database: {0}")]
    NoPort(String),
    /// A step of making or starting the cluster failed.
    #[error("{step} failed: {detail}")]
    Step {
        /// Which step (`initdb`, `starting the server`, …).
        step: &'static str,
        /// Why, from the tool's own output.
        detail: String,
    },
    /// What was asked needs the database's server running.
    #[error("database {0} is not running; start it first (backups, their proofs and restores need its server)")]
    NotRunning(String),
    /// A backup that is not completed cannot be downloaded or restored.
    #[error("backup {id} is {status}; only a completed backup can be {what}")]
    BackupNotCompleted {
        /// The backup.
        id: String,
        /// Its status.
        status: &'static str,
        /// What was asked.
        what: &'static str,
    },
    /// A backup's file could not be read back.
    #[error("backup {id} cannot be read: {source}")]
    Unreadable {
        /// The backup.
        id: String,
        /// Why.
        source: crate::backup::sealed::SealedError,
    },
    /// A proof restores a copy on the database's own disk: it needs that much room.
    #[error(
        "its proof needs about {need_mb} MiB free on the database's disk and {free_mb} MiB are; raise limits.diskMb"
    )]
    NoRoomForProof {
        /// MiB it needs.
        need_mb: u64,
        /// MiB there are.
        free_mb: u64,
    },
    /// The database's server did not do what was asked just now; asking again may work.
    #[error("{0}")]
    Unavailable(String),
    /// One proof at a time per server: another one holds the scratch room.
    #[error("another backup's proof is running on this server; try again in a minute")]
    ProofBusy,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] shipyard_store::StoreError),
}

impl DatabaseError {
    /// A failed step with its cause.
    pub fn step(step: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Step {
            step,
            detail: detail.to_string(),
        }
    }
}
