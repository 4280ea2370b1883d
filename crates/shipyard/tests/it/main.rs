//! Integration tests: each starts the real `shipyard` binary on 127.0.0.1, a free port and a
//! temporary data directory, and talks HTTP to it. One test binary, so the stack links once.

mod account;
mod api;
mod cli;
mod console;
mod databases;
mod deploy;
mod domains;
mod red_team;
mod runtime;
mod server;
mod support;
