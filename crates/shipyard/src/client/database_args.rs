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
    /// Backups: list, take, download, restore, prove again.
    ///
    /// Example: `shipyard databases backups create orders`
    Backups {
        /// What to do.
        #[command(subcommand)]
        command: BackupsCommand,
    },
    /// Open a local port that carries each connection to the database through the platform,
    /// for psql, migrations and GUI clients on this machine; Ctrl-C closes it.
    ///
    /// Example: `shipyard databases connect orders --port 15432`, then
    /// `psql "postgres://USER:PASSWORD@127.0.0.1:15432/DB"` (`shipyard databases url` names them)
    Connect {
        /// Name or id.
        database: String,
        /// The local port (default: one the system picks, printed).
        #[arg(long)]
        port: Option<u16>,
    },
    /// Set a new password; the old one keeps working for the grace period, and attached
    /// environments get the new URL at their next deployment (--redeploy: now).
    ///
    /// Example: `shipyard databases rotate-password orders --grace-seconds 600 --redeploy`
    RotatePassword {
        /// Name or id.
        database: String,
        /// How long the old password keeps working (default 300).
        #[arg(long)]
        grace_seconds: Option<u32>,
        /// Deploy each attached environment now, so it gets the new URL at once.
        #[arg(long)]
        redeploy: bool,
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

/// `databases backups …`; a backup is named by its `bkp_…` id.
#[derive(Debug, Subcommand)]
pub enum BackupsCommand {
    /// The database's backups, newest first.
    ///
    /// Example: `shipyard databases backups list orders`
    List {
        /// Name or id.
        database: String,
    },
    /// Take a backup and wait until it is proven by a restore (or failed, exit 1).
    ///
    /// Example: `shipyard databases backups create orders`
    Create {
        /// Name or id.
        database: String,
        /// Print the pending backup and return at once.
        #[arg(long)]
        no_wait: bool,
    },
    /// Save a backup as the plain dump `pg_restore` reads.
    ///
    /// Example: `shipyard databases backups download orders bkp_… -o orders.dump`
    Download {
        /// Name or id.
        database: String,
        /// The backup's id.
        backup: String,
        /// Where to write it (default: `<database>-<backup>.dump`; `-` for stdout).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Restore a backup into a new database (default) or over the same one (`--target same`,
    /// after a backup of what it holds now), and wait until it is done.
    ///
    /// Example: `shipyard databases backups restore orders bkp_… --target same`
    Restore {
        /// Name or id.
        database: String,
        /// The backup's id.
        backup: String,
        /// `new` or `same`.
        #[arg(long, default_value = "new")]
        target: String,
        /// The new database's name (`new` only).
        #[arg(long)]
        name: Option<String>,
        /// Print the pending restore and return at once.
        #[arg(long)]
        no_wait: bool,
    },
    /// Prove a backup again by a restore (exit 1 when the proof fails).
    ///
    /// Example: `shipyard databases backups verify orders bkp_…`
    Verify {
        /// Name or id.
        database: String,
        /// The backup's id.
        backup: String,
    },
}
