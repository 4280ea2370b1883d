//! The client commands (`login`, `deploy`, `logs`, …): the API over `shipyard-client`, with
//! CONTRACT.md's exit codes.

pub mod account;
pub mod args;
pub mod context;
pub mod credentials;
pub mod deploy;
pub mod failure;
pub mod logs;
pub mod output;
pub mod projects;

use args::{ClientCommand, Global};
use context::Context;
use failure::Failure;

/// Runs one client command; the exit code is its result (its error already printed).
pub async fn run(global: &Global, command: ClientCommand) -> u8 {
    match dispatch(global, command).await {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}

async fn dispatch(global: &Global, command: ClientCommand) -> Result<(), Failure> {
    match command {
        ClientCommand::Login(args) => account::login(global, args).await,
        ClientCommand::Logout => account::logout(global),
        ClientCommand::Whoami => account::whoami(global).await,
        ClientCommand::Completions { shell } => {
            let mut command = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "shipyard", &mut std::io::stdout());
            Ok(())
        }
        ClientCommand::Projects { command } => projects::projects(&Context::open(global).await?, command).await,
        ClientCommand::Deploy(args) => deploy::run(&Context::open(global).await?, args).await,
        ClientCommand::Deployments { command } => projects::deployments(&Context::open(global).await?, command).await,
        ClientCommand::Logs(args) => logs::run(&Context::open(global).await?, args).await,
        ClientCommand::Open(target) => projects::open(&Context::open(global).await?, &target).await,
    }
}
