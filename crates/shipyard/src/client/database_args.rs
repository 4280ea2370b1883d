//! The command line of `shipyard databases …`.

use clap::Subcommand;

/// `databases …`; a database is named by its name or its `db_…` id.
#[derive(Debug, Subcommand)]
pub enum DatabasesCommand {
    /// The workspace's databases.
    ///
    /// Example: `shipyard databases list`
    List,
    /// Make a PostgreSQL database; it is ready once its status is `running`.
    ///
    /// Example: `shipyard databases create orders --memory-mb 512`
    Create {
        /// Its name, unique in the workspace.
        name: String,
        /// A major version installed on the server (default: the newest).
        #[arg(long)]
        version: Option<String>,
        /// Memory in MiB (default 256).
        #[arg(long)]
        memory_mb: Option<u32>,
        /// Disk in MiB (default 1024).
        #[arg(long)]
        disk_mb: Option<u32>,
    },
    /// One database's details.
    ///
    /// Example: `shipyard databases show orders`
    Show {
        /// Name or id.
        database: String,
    },
    /// Start a stopped database.
    ///
    /// Example: `shipyard databases start orders`
    Start {
        /// Name or id.
        database: String,
    },
    /// Stop a database (its data is kept).
    ///
    /// Example: `shipyard databases stop orders`
    Stop {
        /// Name or id.
        database: String,
    },
    /// Delete a database and its data.
    ///
    /// Example: `shipyard databases delete orders`
    Delete {
        /// Name or id.
        database: String,
    },
    /// Print the connection URL; it holds the password, so `--show-password` is required.
    ///
    /// Example: `psql "$(shipyard databases url orders --show-password)"`
    Url {
        /// Name or id.
        database: String,
        /// Print it although it holds the password.
        #[arg(long)]
        show_password: bool,
    },
}
