//! The command lines of `login`, `logout` and `tokens …`.

use clap::{Args, Subcommand};
use shipyard_client::types::account::TokenScope;

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The token (default: `SHIPYARD_TOKEN`, else one line of stdin).
    #[arg(long, env = "SHIPYARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Sign in as this user instead (the password from a prompt, or one line of stdin) and
    /// store a new token named for this machine; any token given is then ignored.
    #[arg(long)]
    pub email: Option<String>,
}

/// `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Only forget the token here, leaving it valid (revoke it in the console).
    #[arg(long)]
    pub keep_token: bool,
}

/// `tokens …`: token routes take a session, so each signs in as `--email` (default: the stored
/// login's) with the password from a prompt or one line of stdin, and signs out after.
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Make a token and print it (the only time it is shown).
    ///
    /// Example: `shipyard tokens create ci --scope deploy --expires-in-days 90`
    Create {
        /// Its label.
        name: String,
        /// What it may do: read, deploy or write (each includes the ones before it; default
        /// write, everything your role allows).
        #[arg(long = "scope", value_parser = parse_scope)]
        scopes: Vec<TokenScope>,
        /// Lifetime in days, 1 to 3650 (default: no expiry).
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// Sign in as this user.
        #[arg(long)]
        email: Option<String>,
    },
    /// Your tokens with their scopes, expiry, last use and where from.
    ///
    /// Example: `shipyard tokens list`
    List {
        /// Sign in as this user.
        #[arg(long)]
        email: Option<String>,
    },
    /// Revoke a token at once.
    ///
    /// Example: `shipyard tokens revoke tok_0190…`
    Revoke {
        /// Its id (`tok_…`).
        id: String,
        /// Sign in as this user.
        #[arg(long)]
        email: Option<String>,
    },
}

fn parse_scope(text: &str) -> Result<TokenScope, String> {
    TokenScope::parse(text).ok_or_else(|| format!("`{text}` is not a scope: read, deploy or write"))
}
