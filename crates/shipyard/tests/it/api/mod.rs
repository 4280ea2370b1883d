//! The API as a contract: projects, environments, connections, secrets, validation, the OpenAPI document and the matrices over every route.

mod connections;
mod environments;
mod hosts_and_clients;
mod matrix_isolation;
mod matrix_no500;
mod openapi;
pub mod operations;
mod project_validation;
mod projects;
mod secrets;
