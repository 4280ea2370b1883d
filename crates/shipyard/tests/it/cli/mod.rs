//! The `shipyard` command line against a real server.

mod ci;
mod databases;
mod deploy;
mod domains;
mod login;
mod logs;
mod projects;
mod releases;
mod tunnel;
mod usage;
mod watching;
