//! The `shipyard` binary's library half: configuration, the `serve` wiring and admin
//! commands, the client commands, reachable from tests without going through `main`.
#![forbid(unsafe_code)]

pub mod bootstrap;
pub mod cli;
pub mod client;
pub mod config;
pub mod serve;
