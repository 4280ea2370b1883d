//! Handlers, one module per resource; each handler is `<verb>_<resource>` and that name is
//! its OpenAPI operation id.

pub mod access_logs;
pub mod admin;
pub mod auth;
pub mod connections;
pub mod databases;
pub mod deployments;
pub mod domains;
pub mod git_input;
pub mod hashing;
pub mod health;
pub mod input;
pub mod log_follow;
pub mod members;
pub mod projects;
pub mod releases;
pub mod rollback;
pub mod runs;
pub mod runtime;
pub mod runtime_logs;
pub mod secrets;
pub mod tokens;
pub mod views;
