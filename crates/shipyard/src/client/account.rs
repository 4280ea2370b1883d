//! `login`, `logout` and `whoami`.

use super::account_args::{LoginArgs, LogoutArgs};
use super::args::Global;
use super::context::Context;
use super::credentials::{self, Stored};
use super::failure::Failure;
use super::output;
use super::sign_in;
use serde_json::json;
use shipyard_client::Client;
use std::io::{BufRead, IsTerminal};

/// Checks the token (given, or made by signing in with `--email`) and stores it.
pub async fn login(global: &Global, args: LoginArgs) -> Result<(), Failure> {
    let earlier = credentials::load().ok().flatten();
    let server = credentials::server(global, earlier.as_ref())?;
    let anonymous = Client::new(server.clone());
    let (login, me, path) = match args.email {
        Some(email) => sign_in::login(&anonymous, &email, earlier.as_ref()).await?,
        None => {
            let token = match args.token.filter(|t| !t.trim().is_empty()) {
                Some(token) => token.trim().to_owned(),
                None => token_from_stdin()?,
            };
            let me = anonymous.with_token(&token).me().await?;
            let login = Stored {
                server: server.clone(),
                token,
                token_id: None,
                email: None,
            };
            let path = credentials::save(&login)?;
            (login, me, path)
        }
    };
    // A token an earlier `login --email` made, which this login did not revoke (sign_in does
    // that only for the same user on the same server).
    let revoked_by_sign_in = |e: &Stored| login.email.is_some() && e.email == login.email && e.server == login.server;
    if let Some(old) = earlier.filter(|e| e.token_id.is_some() && e.token != login.token && !revoked_by_sign_in(e)) {
        sign_in::warn(&format!(
            "the token {}… an earlier `login --email` made stays valid until it expires; revoke it in the console",
            prefix(&old)
        ));
    }
    if global.json {
        output::json(&json!({ "server": server, "me": me, "stored": path, "tokenId": login.token_id }));
    } else {
        println!(
            "Logged in to {server} as {} (stored in {}).",
            output::text(&me.user.email),
            path.display()
        );
        if let Some(token) = &me.token {
            let scopes: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
            println!(
                "This token ({}) may: {}.",
                output::printable(&token.name),
                scopes.join(", ")
            );
        }
    }
    Ok(())
}

/// The start of a token, as the console's token list shows it.
fn prefix(login: &Stored) -> String {
    login.token.chars().take(14).collect()
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

/// Forgets the stored login, first revoking its token if `login --email` made it (unless
/// `--keep-token`). When the revocation fails the login stays, so it can be tried again.
pub async fn logout(global: &Global, args: LogoutArgs) -> Result<(), Failure> {
    let login = match credentials::load() {
        Ok(Some(login)) => login,
        Ok(None) => {
            if global.json {
                output::json(&json!({ "forgotten": false, "revoked": false }));
            } else {
                println!("Not logged in.");
            }
            return Ok(());
        }
        Err(unreadable) => {
            credentials::forget()?;
            sign_in::warn(&format!("{unreadable}; it is removed"));
            return Ok(());
        }
    };
    let revoked = match (&login.token_id, &login.email) {
        (Some(id), Some(email)) if !args.keep_token => {
            sign_in::revoke(&login, id, email)
                .await
                .map_err(|why| Failure::Revocation {
                    prefix: prefix(&login),
                    why: Box::new(why),
                })?;
            true
        }
        _ => false,
    };
    credentials::forget()?;
    if global.json {
        output::json(&json!({ "forgotten": true, "revoked": revoked }));
    } else if revoked {
        println!("Logged out; the token this login made is revoked.");
    } else {
        println!(
            "Logged out (the token {}… stays valid until it expires or you revoke it in the console).",
            prefix(&login)
        );
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
        output::text(&me.user.email),
        output::text(&me.auth_method),
        ctx.client.base()
    );
    let rows: Vec<Vec<String>> = me
        .memberships
        .iter()
        .map(|m| {
            let current = if m.tenant_id == ctx.ws.id() { "*" } else { "" };
            vec![
                current.into(),
                output::text(&m.tenant_slug),
                output::text(&m.tenant_name),
                output::text(&m.role),
            ]
        })
        .collect();
    output::table(&["", "WORKSPACE", "NAME", "ROLE"], &rows);
    Ok(())
}
