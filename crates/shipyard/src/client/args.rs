//! The client commands' command line (clap).

use super::account_args::{LoginArgs, LogoutArgs, TokensCommand};
use super::database_args::DatabasesCommand;
use super::domain_args::DomainsCommand;
use clap::{Args, Subcommand};
use std::path::PathBuf;

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
    /// Store a token for this server: one you give, or one made by signing in with --email.
    ///
    /// Example: `echo "$TOKEN" | shipyard login --server https://shipyard.example.com`
    /// or `shipyard login --email ada@example.com` (asks for the password)
    Login(LoginArgs),
    /// Forget the stored token, revoking it if `login --email` made it (asks for the password).
    ///
    /// Example: `shipyard logout`
    Logout(LogoutArgs),
    /// Make, list and revoke API tokens, scoped for CI and agents (signs in: the password from
    /// a prompt or stdin).
    ///
    /// Example: `shipyard tokens create ci --scope deploy`
    Tokens {
        /// What to do.
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Who the stored token acts as.
    ///
    /// Example: `shipyard whoami --json`
    Whoami,
    /// List, show, detect, create and delete projects.
    ///
    /// Example: `shipyard projects list`
    Projects {
        /// What to do.
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// List and create a project's environments.
    ///
    /// Example: `shipyard env create staging --branch develop --project web`
    Env {
        /// What to do.
        #[command(subcommand)]
        command: EnvCommand,
    },
    /// Deploy an environment, stream its build log and print its live URL.
    ///
    /// Example: `shipyard deploy --project web --note "release 1.2"`
    Deploy(DeployArgs),
    /// Run a command once in the environment's active release (its secrets and databases), its
    /// output as it comes; the exit code is the command's.
    ///
    /// Example: `shipyard run --project web -- npm run migrate`
    Run(RunArgs),
    /// List, show, cancel and retry deployments.
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
    /// An environment's releases.
    ///
    /// Example: `shipyard releases list --project web`
    Releases {
        /// What to do.
        #[command(subcommand)]
        command: ReleasesCommand,
    },
    /// Serve an earlier release again, with no rebuild, and print the live URL.
    ///
    /// Example: `shipyard rollback v3 --project web --reason "v4 broke checkout"`
    Rollback(RollbackArgs),
    /// List, set and unset secrets (values from stdin, never from arguments).
    ///
    /// Example: `printf %s "$KEY" | shipyard secrets set API_KEY --project web`
    Secrets {
        /// What to do.
        #[command(subcommand)]
        command: SecretsCommand,
    },
    /// Managed PostgreSQL databases: list, create, show, start, stop, delete, print the URL.
    ///
    /// Example: `shipyard databases create orders`
    Databases {
        /// What to do.
        #[command(subcommand)]
        command: DatabasesCommand,
    },
    /// Custom domains: add one (printing the DNS records to create), verify, list with the
    /// reason one is not live, remove.
    ///
    /// Example: `shipyard domains add shop.example.com --project web`
    Domains {
        /// What to do.
        #[command(subcommand)]
        command: DomainsCommand,
    },
    /// Print the live URL of an environment (and open it in a browser on a desktop terminal).
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
    /// Suggest a project's type and commands from its repository (never runs its code).
    ///
    /// Example: `shipyard projects detect --repo https://github.com/acme/web.git`
    Detect(Source),
    /// Create a project (its type detected unless `--type`), with a `production` environment.
    ///
    /// Example: `shipyard projects create web --repo https://github.com/acme/web.git`
    Create {
        /// The project's name (its slug is made from it).
        name: String,
        /// The repository.
        #[command(flatten)]
        source: Source,
        /// static, react, node or python (default: detected).
        #[arg(long = "type")]
        kind: Option<String>,
    },
    /// Delete a project: its instances stop, its routes, artifacts and history go.
    ///
    /// Example: `shipyard projects delete web --yes`
    Delete {
        /// Id or slug.
        project: String,
        /// Confirm (nothing is deleted without it).
        #[arg(long)]
        yes: bool,
    },
}

/// A repository: connected now from `--repo`, or an existing `--connection`.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false, id = "repository")]
pub struct Source {
    /// A git URL to connect (https, ssh, or file:// where the server allows local repositories).
    #[arg(long, group = "repository")]
    pub repo: Option<String>,
    /// An existing repository connection (`rc_…`).
    #[arg(long, group = "repository")]
    pub connection: Option<String>,
    /// The branch (default: the repository's default branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// The app's folder inside the repository.
    #[arg(long)]
    pub root_directory: Option<String>,
}

/// `env …`.
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// A project's environments with their branches and live URLs.
    ///
    /// Example: `shipyard env list --project web`
    List {
        /// The project, id or slug (default: shipyard.toml's).
        #[arg(long, short)]
        project: Option<String>,
    },
    /// Add an environment that deploys `--branch`.
    ///
    /// Example: `shipyard env create staging --branch develop --project web`
    Create {
        /// Its name (its slug is made from it).
        name: String,
        /// The branch it deploys.
        #[arg(long)]
        branch: String,
        /// The project, id or slug (default: shipyard.toml's).
        #[arg(long, short)]
        project: Option<String>,
    },
}

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Project and environment.
    #[command(flatten)]
    pub target: Target,
    /// The command and its arguments, after `--`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
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
    /// Build the same commit again, with the project's current configuration.
    ///
    /// Example: `shipyard deployments retry DEP-0004`
    Retry {
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

/// `secrets …`.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// The secrets of a scope (names and versions; values are never shown).
    ///
    /// Example: `shipyard secrets list --project web --env staging`
    List {
        /// The scope.
        #[command(flatten)]
        scope: SecretScope,
    },
    /// Create or update a secret; the value is read from stdin or `--from-file`.
    ///
    /// Example: `printf %s "$STRIPE_KEY" | shipyard secrets set STRIPE_KEY --project web`
    Set {
        /// An environment-variable name.
        name: String,
        /// The scope.
        #[command(flatten)]
        scope: SecretScope,
        /// Read the value from this file instead of stdin.
        #[arg(long)]
        from_file: Option<PathBuf>,
    },
    /// Delete a secret (releases that use it keep their version).
    ///
    /// Example: `shipyard secrets unset STRIPE_KEY --project web`
    Unset {
        /// Its name.
        name: String,
        /// The scope.
        #[command(flatten)]
        scope: SecretScope,
    },
}

/// A secret's scope: the workspace without flags, a project with `--project`, one of its
/// environments with `--env`.
#[derive(Debug, Clone, Args)]
pub struct SecretScope {
    /// The project, id or slug (with `--env` alone: shipyard.toml's).
    #[arg(long, short)]
    pub project: Option<String>,
    /// The environment, id or slug.
    #[arg(long, short)]
    pub env: Option<String>,
}

/// `releases …`.
#[derive(Debug, Subcommand)]
pub enum ReleasesCommand {
    /// An environment's releases, newest first (the rollback targets).
    ///
    /// Example: `shipyard releases list --project web`
    List(Target),
}

/// `rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The release, id or version such as v3 (default: the one active before the current one).
    pub release: Option<String>,
    /// Project and environment.
    #[command(flatten)]
    pub target: Target,
    /// Why (kept with the new release).
    #[arg(long)]
    pub reason: Option<String>,
    /// Give up waiting for it to serve after this long (exit 6).
    #[arg(long, default_value = "5m")]
    pub timeout: String,
}
