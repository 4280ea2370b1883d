//! `shipyard admin bootstrap`: headless set-up for scripts and CI. Works beside a running
//! server (SQLite in WAL mode takes concurrent writers) and prints only the token.

use anyhow::{Context, bail};
use shipyard_core::{Email, OpaqueToken, Password};
use shipyard_store::{ApiTokens, Backend, DataDir, NewUser, SqliteStore, Tenants, Users};
use std::io::Read;
use std::path::PathBuf;

/// Arguments of `shipyard admin bootstrap`.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// The server's data directory.
    #[arg(long, env = "SHIPYARD_DATA_DIR", default_value = "./shipyard-data")]
    pub data_dir: PathBuf,
    /// The user to act as (made if missing; platform admin when first).
    #[arg(long)]
    pub email: String,
    /// Workspace the user should own (made unless the user already owns one of this name).
    #[arg(long)]
    pub workspace: String,
    /// Display name for a new user [default: the part of the email before `@`].
    #[arg(long)]
    pub name: Option<String>,
    /// Read a password for a new user from standard input (otherwise it logs in by token only).
    #[arg(long)]
    pub password_stdin: bool,
}

/// Runs the command and prints the new token on stdout.
pub async fn run(args: BootstrapArgs) -> anyhow::Result<()> {
    let token = bootstrap(args).await?;
    println!("{token}");
    Ok(())
}

/// Does the work and returns the new `shpat_` token.
pub async fn bootstrap(args: BootstrapArgs) -> anyhow::Result<String> {
    let email = Email::parse(&args.email).context("--email")?;
    let workspace = args.workspace.trim();
    if workspace.is_empty() || workspace.chars().count() > 100 {
        bail!("--workspace must be 1 to 100 characters");
    }
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the password from stdin")?;
        Some(Password::parse(text.trim_end_matches(['\r', '\n']).to_owned()).context("password from stdin")?)
    } else {
        None
    };
    let data_dir = DataDir::open_shared(&args.data_dir)?;
    let store = SqliteStore::open(&data_dir.database_path()).await?;

    let mut tx = store.write().await?;
    let user = match tx.user_by_email(&email).await? {
        Some(user) => user,
        None => {
            let first = tx.count_users().await? == 0;
            let name = args.name.clone().unwrap_or_else(|| email.local_part().to_owned());
            let new = NewUser {
                email: email.clone(),
                name,
                password_hash: password.as_ref().map(Password::hash),
                is_platform_admin: first,
            };
            tx.create_user(&new).await?
        }
    };
    if tx.owned_tenant_named(&user.id, workspace).await?.is_none() {
        tx.create_tenant(workspace, &user.id).await?;
    }
    let token = OpaqueToken::generate("shpat_");
    tx.create_token(
        &user.id,
        &shipyard_store::NewToken {
            name: "bootstrap",
            prefix: &token.display_prefix(),
            token_hash: &token.hash,
            expires_at: None,
            scopes: &[shipyard_core::TokenScope::Write],
            projects: None,
        },
    )
    .await?;
    SqliteStore::commit(tx).await?;
    store.close().await;
    Ok(token.plain)
}
