//! `login`, `logout` and `whoami`.

use super::args::{Global, LoginArgs};
use super::context::{Context, server};
use super::credentials::{self, Stored};
use super::failure::Failure;
use super::output;
use serde_json::json;
use shipyard_client::Client;
use std::io::{BufRead, IsTerminal};

/// Checks the token (given, or made by signing in with `--email`) and stores it; a token an
/// earlier `login --email` made is revoked once the new one is stored.
pub async fn login(global: &Global, args: LoginArgs) -> Result<(), Failure> {
    let server = server(global, None);
    let anonymous = Client::new(server.clone());
    let login = match args.email {
        Some(email) => sign_in(&anonymous, &email).await?,
        None => Stored {
            server: server.clone(),
            token: match args.token.filter(|t| !t.trim().is_empty()) {
                Some(token) => token.trim().to_owned(),
                None => token_from_stdin()?,
            },
            token_id: None,
            session: None,
        },
    };
    let me = anonymous.with_token(&login.token).me().await?;
    let earlier = credentials::load().ok().flatten();
    let path = credentials::save(&login)?;
    if let Some(earlier) = earlier.filter(|e| e.token_id.is_some() && e.token_id != login.token_id)
        && let Err(why) = revoke(&earlier).await
    {
        eprintln!("warning: the token the last login made was not revoked: {why}");
    }
    if global.json {
        output::json(&json!({ "server": server, "me": me, "stored": path, "tokenId": login.token_id }));
    } else {
        println!(
            "Logged in to {server} as {} (stored in {}).",
            output::text(&me["user"]["email"]),
            path.display()
        );
    }
    Ok(())
}

/// Signs in as `email` and makes a token named for this machine with that session.
async fn sign_in(anonymous: &Client, email: &str) -> Result<Stored, Failure> {
    let password = password_for(email)?;
    let session = anonymous.login(email, &password).await?;
    let made = session.make_token(&format!("shipyard CLI on {}", hostname())).await?;
    let field = |name: &str| {
        made[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Failure::Other(format!("the new token's answer has no {name}")))
    };
    Ok(Stored {
        server: anonymous.base().to_owned(),
        token: field("token")?,
        token_id: Some(field("id")?),
        session: session.session().map(str::to_owned),
    })
}

/// The password: asked for without echo on a terminal, else one line of stdin.
fn password_for(email: &str) -> Result<String, Failure> {
    let unreadable = |e: std::io::Error| Failure::Other(format!("cannot read the password: {e}"));
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("Password for {}: ", output::printable(email))).map_err(unreadable)?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(unreadable)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return Err(Failure::Usage(
            "no password: type it at the prompt or write it on stdin".into(),
        ));
    }
    Ok(password)
}

/// This machine's name, for the token's name ("shipyard CLI on build-7").
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
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

/// Revokes the token `login --email` made (with the session it signed in with), then ends
/// that session. A token already gone counts as revoked.
async fn revoke(login: &Stored) -> Result<(), Failure> {
    let (Some(id), Some(session)) = (&login.token_id, &login.session) else {
        return Ok(());
    };
    let client = Client::new(login.server.clone()).with_session(session);
    let answer = client.delete(&format!("/account/api-tokens/{id}")).await?;
    if answer.status != 404 {
        answer.ok()?;
    }
    client.logout().await?;
    Ok(())
}

/// Forgets the stored login, first revoking the token if `login --email` made it. The login is
/// forgotten even when the revocation fails; the failure is then the command's result.
pub async fn logout(global: &Global) -> Result<(), Failure> {
    let Some(login) = credentials::load()? else {
        if global.json {
            output::json(&json!({ "forgotten": false, "revoked": false }));
        } else {
            println!("Not logged in.");
        }
        return Ok(());
    };
    let made_here = login.token_id.is_some();
    let revoked = revoke(&login).await;
    credentials::forget()?;
    if let Err(why) = revoked {
        let prefix: String = login.token.chars().take(14).collect();
        return Err(Failure::Revocation {
            prefix,
            why: Box::new(why),
        });
    }
    if global.json {
        output::json(&json!({ "forgotten": true, "revoked": made_here }));
    } else if made_here {
        println!("Logged out; the token this login made is revoked.");
    } else {
        println!("Logged out (the token you gave stays valid until you revoke it in the console).");
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
