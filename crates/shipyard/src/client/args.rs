//! The client commands' command line (clap).

use clap::{Args, Subcommand};

/// Options every client command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The Shipyard server, e.g. `https://shipyard.example.com` (default: the stored login's,
    /// else http://127.0.0.1:8080).
    #[arg(long, env = "SHIPYARD_URL", global = true)]
    pub server: Option<String>,
    /// Machine output: one JSON document (JSON lines for followed logs).
    #[arg(long, global = true)]
    pub json: bool,
    /// The workspace (id or slug; default: your first).
    #[arg(long, env = "SHIPYARD_WORKSPACE", global = true)]
    pub workspace: Option<String>,
}

/// Which project and environment a command is about.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The project, id or slug (default: `project` in shipyard.toml).
    #[arg(long, short)]
    pub project: Option<String>,
    /// The environment, id or slug.
    #[arg(long, short, default_value = "production")]
    pub env: String,
}

/// Commands that talk to a Shipyard server.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Store a token for this server.
    ///
    /// Example: `echo "$TOKEN" | shipyard login --server https://shipyard.example.com`
    Login(LoginArgs),
    /// Forget the stored token.
    ///
    /// Example: `shipyard logout`
    Logout,
    /// Who the stored token acts as.
    ///
    /// Example: `shipyard whoami --json`
    Whoami,
    /// List and show projects.
    ///
    /// Example: `shipyard projects list`
    Projects {
        /// What to do.
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Deploy an environment, stream its build log and print its live URL.
    ///
    /// Example: `shipyard deploy --project web --note "release 1.2"`
    Deploy(DeployArgs),
    /// List, show and cancel deployments.
    ///
    /// Example: `shipyard deployments list --project web`
    Deployments {
        /// What to do.
        #[command(subcommand)]
        command: DeploymentsCommand,
    },
    /// Print (or follow) a deployment's build log, or an environment's runtime or access log.
    ///
    /// Example: `shipyard logs DEP-0004 --follow`
    Logs(LogsArgs),
    /// Print the live URL of an environment.
    ///
    /// Example: `shipyard open --project web`
    Open(Target),
    /// Print a shell's completion script.
    ///
    /// Example: `shipyard completions bash > /etc/bash_completion.d/shipyard`
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The token (default: `SHIPYARD_TOKEN`, else one line of stdin).
    #[arg(long, env = "SHIPYARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// `projects …`.
#[derive(Debug, Subcommand)]
pub enum ProjectsCommand {
    /// List the workspace's projects.
    ///
    /// Example: `shipyard projects list --json`
    List,
    /// Show one project with its environments and configuration.
    ///
    /// Example: `shipyard projects show web`
    Show {
        /// Id or slug.
        project: String,
    },
}

/// `deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// Project and environment.
    #[command(flatten)]
    pub target: Target,
    /// Build this branch instead of the environment's.
    #[arg(long)]
    pub branch: Option<String>,
    /// A note kept on the deployment.
    #[arg(long)]
    pub note: Option<String>,
    /// Print the queued deployment and return at once.
    #[arg(long)]
    pub no_wait: bool,
    /// Give up waiting after this long (`90s`, `15m`, `1h`; exit 6).
    #[arg(long, default_value = "30m")]
    pub timeout: String,
}

/// `deployments …`.
#[derive(Debug, Subcommand)]
pub enum DeploymentsCommand {
    /// An environment's deployments, newest first.
    ///
    /// Example: `shipyard deployments list --project web --env staging`
    List(Target),
    /// One deployment (id or ref such as DEP-0004).
    ///
    /// Example: `shipyard deployments show DEP-0004`
    Show {
        /// Id or ref.
        deployment: String,
    },
    /// Cancel a deployment that has not finished.
    ///
    /// Example: `shipyard deployments cancel DEP-0004`
    Cancel {
        /// Id or ref.
        deployment: String,
    },
}

/// `logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The deployment (id or ref; default: the environment's latest).
    pub deployment: Option<String>,
    /// Project and environment (for the latest deployment, `--runtime` and `--access`).
    #[command(flatten)]
    pub target: Target,
    /// Keep printing new lines until the stream ends (a build: when it finishes).
    #[arg(long, short)]
    pub follow: bool,
    /// The active release's runtime log instead of a build log.
    #[arg(long, conflicts_with_all = ["deployment", "access"])]
    pub runtime: bool,
    /// The environment's access log instead of a build log.
    #[arg(long, conflicts_with = "deployment")]
    pub access: bool,
}
