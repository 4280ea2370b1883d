//! Handlers, one module per resource; each handler is `<verb>_<resource>` and that name is
//! its OpenAPI operation id.

pub mod admin;
pub mod auth;
pub mod health;
pub mod input;
pub mod members;
pub mod tokens;
pub mod views;
