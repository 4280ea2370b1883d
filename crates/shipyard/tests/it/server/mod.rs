//! The server itself: set-up, its log and its shutdown.

mod https;
mod server_log;
mod setup_script;
mod shutdown;
