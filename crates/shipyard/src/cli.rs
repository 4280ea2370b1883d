//! The command line.

use crate::bootstrap::BootstrapArgs;
use crate::client::args::{ClientCommand, Global};
use crate::config::ServeArgs;
use clap::{Parser, Subcommand};

/// Shipyard: a self-hosted platform that turns git repositories into running apps.
#[derive(Debug, Parser)]
#[command(name = "shipyard", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Options of the client commands.
    #[command(flatten)]
    pub global: Global,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the platform: API, console, edge router and workers, on one listener.
    Serve(Box<ServeArgs>),
    /// Administer an install from its host.
    Admin {
        /// The admin command.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Commands that talk to a Shipyard server over its API.
    #[command(flatten)]
    Client(ClientCommand),
}

/// Commands run on the server host against its data directory.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make a user and workspace if needed and print a fresh API token (for scripts and CI).
    Bootstrap(BootstrapArgs),
}
