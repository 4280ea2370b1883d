//! The client commands (`login`, `deploy`, `logs`, …): the API over `shipyard-client`, with
//! CONTRACT.md's exit codes.

pub mod account;
pub mod account_args;
pub mod args;
pub mod context;
pub mod credentials;
pub mod database_args;
pub mod database_backups;
pub mod databases;
pub mod deploy;
pub mod deployments;
pub mod domain_args;
pub mod domains;
pub mod environments;
pub mod failure;
pub mod logs;
pub mod one_off;
pub mod output;
pub mod progress;
pub mod project_setup;
pub mod projects;
pub mod releases;
pub mod secrets;
pub mod sign_in;
pub mod tokens;
pub mod tunnel;

use args::{ClientCommand, Global};
use context::Context;
use failure::Failure;

/// Runs one client command; the exit code is its result (its error already printed).
pub async fn run(global: &Global, command: ClientCommand) -> u8 {
    match dispatch(global, command).await {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("error: {}", output::printable(&failure.to_string()));
            failure.exit_code()
        }
    }
}

async fn dispatch(global: &Global, command: ClientCommand) -> Result<(), Failure> {
    match command {
        ClientCommand::Login(args) => account::login(global, args).await,
        ClientCommand::Logout(args) => account::logout(global, args).await,
        ClientCommand::Whoami => account::whoami(global).await,
        ClientCommand::Tokens { command } => tokens::run(global, command).await,
        ClientCommand::Completions { shell } => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "shipyard", &mut std::io::stdout());
            Ok(())
        }
        ClientCommand::Projects { command } => projects::projects(&Context::open(global).await?, command).await,
        ClientCommand::Env { command } => environments::run(&Context::open(global).await?, command).await,
        ClientCommand::Deploy(args) => deploy::run(&Context::open(global).await?, args).await,
        ClientCommand::Run(args) => one_off::run(&Context::open(global).await?, args).await,
        ClientCommand::Deployments { command } => deployments::run(&Context::open(global).await?, command).await,
        ClientCommand::Logs(args) => logs::run(&Context::open(global).await?, args).await,
        ClientCommand::Releases {
            command: args::ReleasesCommand::List(target),
        } => releases::list(&Context::open(global).await?, &target).await,
        ClientCommand::Rollback(args) => releases::rollback(&Context::open(global).await?, args).await,
        ClientCommand::Secrets { command } => secrets::run(&Context::open(global).await?, command).await,
        ClientCommand::Databases { command } => databases::run(&Context::open(global).await?, command).await,
        ClientCommand::Domains { command } => domains::run(&Context::open(global).await?, command).await,
        ClientCommand::Open(target) => environments::open(&Context::open(global).await?, &target).await,
    }
}
