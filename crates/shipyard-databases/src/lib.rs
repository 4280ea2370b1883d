//! Managed PostgreSQL: each database is a cluster of the host's PostgreSQL server binaries,
//! running as a uid of its own under bubblewrap, in a cgroup with its memory and process
//! limits, on a data disk of its size inside its workspace's disk, listening on a loopback
//! port of its own (forwarded into its network namespace). `Clusters` provisions, starts,
//! supervises, stops and deletes them.
#![forbid(unsafe_code)]

pub mod backup;
mod cluster;
pub mod conf;
pub mod engine;
pub mod error;
mod manager;
pub mod ports;
mod roles;
mod rotate;
mod supervise;
mod tools;
pub mod tunnel;

pub use engine::{Engine, Engines};
pub use error::DatabaseError;
pub use manager::{Clusters, ClustersConfig};
pub use rotate::Rotated;
