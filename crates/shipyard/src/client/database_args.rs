//! The command line of `shipyard databases …`.

use clap::{Args, Subcommand};

/// Where `attach` and `detach` point.
#[derive(Debug, Args)]
pub struct AttachTarget {
    /// The project, id or slug (default: `project` in shipyard.toml).
    #[arg(long, short)]
    pub project: Option<String>,
    /// One environment, id or slug (default: every environment of the project).
    #[arg(long, short)]
    pub env: Option<String>,
    /// Deploy each environment covered now, so the change takes effect at once.
    #[arg(long)]
    pub redeploy: bool,
}

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
    /// Give a project's builds and instances the database's URL (in DATABASE_URL unless
    /// --env-var says otherwise), from its next deployment on (--redeploy: now).
    ///
    /// Example: `shipyard databases attach orders --project web --redeploy`
    Attach {
        /// Name or id.
        database: String,
        /// The project and environment.
        #[command(flatten)]
        to: AttachTarget,
        /// The variable that holds the URL.
        #[arg(long)]
        env_var: Option<String>,
    },
    /// Take the database's URL away from a project (or the one environment given).
    ///
    /// Example: `shipyard databases detach orders --project web`
    Detach {
        /// Name or id.
        database: String,
        /// The project and environment.
        #[command(flatten)]
        to: AttachTarget,
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
