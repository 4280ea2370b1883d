//! Integration tests: each starts the real `shipyard` binary on 127.0.0.1, a free port and a
//! temporary data directory, and talks HTTP to it. One test binary, so the stack links once.

mod accounts;
mod admin;
mod bootstrap;
mod connections;
mod deploy_apps;
mod deploy_control;
mod deploy_failures;
mod deploy_restarts;
mod deploy_sandbox;
mod deploy_stream;
mod edge;
mod environments;
mod hosts_and_clients;
mod live_lifecycle;
mod live_limits;
mod live_servers;
mod live_sites;
mod live_streaming;
mod live_swaps;
mod matrix_isolation;
mod matrix_no500;
mod members;
mod openapi;
mod operations;
mod package_managers;
mod project_validation;
mod projects;
mod red_team_files;
mod red_team_network;
mod releases;
mod secrets;
mod setup_script;
mod support;
mod tokens;
