//! `tokens create|list|revoke`: scoped tokens for CI and agents. Token routes take a session
//! only (CONTRACT.md), so each command signs in (as `sign_in` does for `login --email`), does
//! its one thing and signs out; nothing but the new token is ever printed or kept.

use super::account_args::TokensCommand;
use super::args::Global;
use super::credentials;
use super::failure::Failure;
use super::output;
use super::sign_in;
use shipyard_client::Client;
use shipyard_client::types::account::{CreatedToken, TokenView};
use shipyard_client::types::paging::List;

/// Runs one `tokens` command.
pub async fn run(global: &Global, command: TokensCommand) -> Result<(), Failure> {
    let email = match &command {
        TokensCommand::Create { email, .. } | TokensCommand::List { email } | TokensCommand::Revoke { email, .. } => {
            email.clone()
        }
    };
    if let TokensCommand::Revoke { id, .. } = &command {
        // An id, never a path: the request runs with a session, stronger than any token.
        shipyard_core::TokenId::parse(id)
            .map_err(|_| Failure::Usage(format!("`{}` is not a token id (tok_…)", output::printable(id))))?;
    }
    let session = signed_in(global, email).await?;
    let done = act(global, &session, command).await;
    if let Err(e) = session.logout().await {
        sign_in::warn(&format!("the sign-in could not be ended: {e}"));
    }
    done
}

/// A session on the server as `email` (default: the stored login's user).
async fn signed_in(global: &Global, email: Option<String>) -> Result<Client, Failure> {
    let stored = credentials::load().ok().flatten();
    let server = credentials::server(global, stored.as_ref())?;
    let email = email
        .or_else(|| stored.and_then(|s| s.email))
        .ok_or_else(|| Failure::Usage("token commands sign in: name the user with --email".into()))?;
    let password = sign_in::password_for(&email, "")?;
    Ok(Client::new(server).login(&email, &password).await?)
}

async fn act(global: &Global, session: &Client, command: TokensCommand) -> Result<(), Failure> {
    match command {
        TokensCommand::Create {
            name,
            scopes,
            expires_in_days,
            ..
        } => {
            let scopes = (!scopes.is_empty()).then_some(scopes);
            let made: CreatedToken = session.make_scoped_token(&name, expires_in_days, scopes).await?;
            if global.json {
                output::json(&made);
            } else {
                let scopes: Vec<&str> = made.scopes.iter().map(|s| s.as_str()).collect();
                eprintln!(
                    "Token {} ({}) may: {}. It is shown once; store it now.",
                    made.id,
                    output::printable(&made.name),
                    scopes.join(", ")
                );
                println!("{}", made.token);
            }
        }
        TokensCommand::List { .. } => {
            let list: List<TokenView> = session.get("/account/api-tokens?perPage=100").await?.parse()?;
            if global.json {
                output::json(&list);
            } else {
                let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
                    t.map_or_else(|| "never".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string())
                };
                let rows: Vec<Vec<String>> = list
                    .items
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.clone(),
                            output::printable(&t.name),
                            t.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","),
                            when(t.expires_at),
                            when(t.last_used_at),
                            t.last_used_ip.clone().unwrap_or_default(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "NAME", "SCOPES", "EXPIRES", "LAST USED", "FROM"], &rows);
            }
        }
        TokensCommand::Revoke { id, .. } => {
            session.delete(&format!("/account/api-tokens/{id}")).await?.ok()?;
            if global.json {
                output::json(&serde_json::json!({ "revoked": id }));
            } else {
                println!("Revoked {}.", output::printable(&id));
            }
        }
    }
    Ok(())
}
