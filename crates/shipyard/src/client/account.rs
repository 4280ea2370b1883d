//! `login`, `logout` and `whoami`.

use super::args::{Global, LoginArgs};
use super::context::{Context, server};
use super::credentials::{self, Stored};
use super::failure::Failure;
use super::output;
use serde_json::json;
use shipyard_client::Client;
use std::io::{BufRead, IsTerminal};

/// Checks the token against the server and stores it.
pub async fn login(global: &Global, args: LoginArgs) -> Result<(), Failure> {
    let server = server(global, None);
    let token = match args.token.filter(|t| !t.trim().is_empty()) {
        Some(token) => token.trim().to_owned(),
        None => token_from_stdin()?,
    };
    let me = Client::new(server.clone()).with_token(&token).me().await?;
    let path = credentials::save(&Stored {
        server: server.clone(),
        token,
    })?;
    if global.json {
        output::json(&json!({ "server": server, "me": me, "stored": path }));
    } else {
        println!(
            "Logged in to {server} as {} (stored in {}).",
            output::text(&me["user"]["email"]),
            path.display()
        );
    }
    Ok(())
}

/// One line of stdin (asked for when stdin is a terminal).
fn token_from_stdin() -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("API token (shpat_…): ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Other(format!("cannot read the token from stdin: {e}")))?;
    let token = line.trim().to_owned();
    if token.is_empty() {
        return Err(Failure::Usage(
            "no token: pass --token, set SHIPYARD_TOKEN or write it on stdin".into(),
        ));
    }
    Ok(token)
}

/// Forgets the stored login.
pub fn logout(global: &Global) -> Result<(), Failure> {
    let had = credentials::forget()?;
    if global.json {
        output::json(&json!({ "forgotten": had }));
    } else if had {
        println!("Logged out (the token stays valid until you revoke it in the console).");
    } else {
        println!("Not logged in.");
    }
    Ok(())
}

/// Prints who the token acts as and in which workspaces.
pub async fn whoami(global: &Global) -> Result<(), Failure> {
    let ctx = Context::open(global).await?;
    let me = ctx.client.me().await?;
    if ctx.json {
        output::json(&me);
        return Ok(());
    }
    println!(
        "{} ({}) on {}",
        output::text(&me["user"]["email"]),
        output::text(&me["authMethod"]),
        ctx.client.base()
    );
    let rows: Vec<Vec<String>> = me["memberships"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let current = if m["tenantId"] == ctx.tenant.as_str() { "*" } else { "" };
            vec![
                current.into(),
                output::text(&m["tenantSlug"]),
                output::text(&m["tenantName"]),
                output::text(&m["role"]),
            ]
        })
        .collect();
    output::table(&["", "WORKSPACE", "NAME", "ROLE"], &rows);
    Ok(())
}
