//! `shipyard`: the platform server, its admin commands and the client commands.

use clap::Parser;
use shipyard::cli::{AdminCommand, Cli, Command};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every HTTP client of the process (the CLI's, health checks, the edge's own) is built
    // with the TLS library's provider, which must be chosen before the first one.
    shipyard_client::install_tls_provider();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Serve(args) => match args.resolve() {
            Ok(settings) => match shipyard::serve::bind(&settings).await {
                Ok(listener) => shipyard::serve::run(settings, listener, shipyard::serve::shutdown_signal()).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        Command::Admin {
            command: AdminCommand::Bootstrap(args),
        } => shipyard::bootstrap::run(args).await,
        Command::Client(command) => return ExitCode::from(shipyard::client::run(&cli.global, command).await),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
