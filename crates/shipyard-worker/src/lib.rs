//! The worker: a loop inside `serve` that claims build jobs (leases renewed by a heartbeat),
//! builds each in the sandbox while its log streams live, and turns a success into a release.
#![forbid(unsafe_code)]

mod build;
mod cache;
mod context;
mod go_live;
mod heartbeat;
pub mod storage;

pub use context::{Worker, WorkerParts, WorkerSettings};
