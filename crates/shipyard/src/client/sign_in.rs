//! Signing in with an email and a password. Token routes take a session only (CONTRACT.md),
//! so `login --email` signs in, makes a token named for this machine and ends the session;
//! `logout` signs in again the same way to revoke that token. Only the token is ever stored:
//! a kept session could make new tokens and, for a platform admin, reach `/admin`.

use super::credentials::{self, Stored};
use super::failure::Failure;
use super::output;
use shipyard_client::Client;
use shipyard_client::types::account::{CreatedToken, MeResponse};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

/// Days a token `login --email` makes stays valid, so one left behind does not live forever.
pub const TOKEN_DAYS: u32 = 365;

/// Signs in as `email`, makes and checks a token, stores it, and revokes `earlier`'s token
/// when an earlier `login --email` of the same user on the same server made it. A token made
/// for a login that then fails is revoked again; the session is ended in every case.
pub async fn login(
    anonymous: &Client,
    email: &str,
    earlier: Option<&Stored>,
) -> Result<(Stored, MeResponse, PathBuf), Failure> {
    let password = password_for(email, "")?;
    let session = anonymous.login(email, &password).await?;
    let name = format!("shipyard CLI on {}", hostname());
    let outcome = match session.make_token(&name, Some(TOKEN_DAYS)).await {
        Ok(made) => keep(anonymous, &session, email, &made, earlier).await,
        Err(e) => Err(e.into()),
    };
    if let Err(e) = session.logout().await {
        warn(&format!("the sign-in used to make the token could not be ended: {e}"));
    }
    outcome
}

/// Stores the token `made` once it is shown to work; revokes it when that fails.
async fn keep(
    anonymous: &Client,
    session: &Client,
    email: &str,
    made: &CreatedToken,
    earlier: Option<&Stored>,
) -> Result<(Stored, MeResponse, PathBuf), Failure> {
    let id = made.id.as_str();
    let stored = Stored {
        server: anonymous.base().to_owned(),
        token: made.token.clone(),
        token_id: Some(id.to_owned()),
        email: Some(email.to_owned()),
    };
    let kept = match anonymous.with_token(&stored.token).me().await {
        Ok(me) => credentials::save(&stored).map(|path| (stored, me, path)),
        Err(e) => Err(e.into()),
    };
    if kept.is_err() {
        let _ = delete_token(session, id).await;
        return kept;
    }
    if let Some(old) = earlier.filter(|e| {
        e.server == anonymous.base() && e.email.as_deref() == Some(email) && e.token_id.as_deref() != Some(id)
    }) && let Some(old_id) = &old.token_id
        && let Err(e) = delete_token(session, old_id).await
    {
        warn(&format!("the token the last login made was not revoked: {e}"));
    }
    kept
}

/// Signs in as `email` on the login's server and revokes the token `id` (one already gone
/// counts as revoked), then ends that session.
pub async fn revoke(login: &Stored, id: &str, email: &str) -> Result<(), Failure> {
    let password = password_for(email, " to revoke this machine's token")?;
    let session = Client::new(login.server.clone()).login(email, &password).await?;
    let deleted = delete_token(&session, id).await;
    if let Err(e) = session.logout().await {
        warn(&format!("the sign-in used to revoke the token could not be ended: {e}"));
    }
    deleted
}

async fn delete_token(session: &Client, id: &str) -> Result<(), Failure> {
    let answer = session.delete(&format!("/account/api-tokens/{id}")).await?;
    if answer.status != 404 {
        answer.ok()?;
    }
    Ok(())
}

/// The password: asked for without echo on a terminal, else one line of stdin.
pub fn password_for(email: &str, why: &str) -> Result<String, Failure> {
    let unreadable = |e: std::io::Error| Failure::Other(format!("cannot read the password: {e}"));
    let password = if std::io::stdin().is_terminal() {
        let prompt = format!("Password for {}{why}: ", output::printable(email));
        rpassword::prompt_password(prompt).map_err(unreadable)?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(unreadable)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return Err(Failure::Usage(format!(
            "no password for {}: type it at the prompt or write it on stdin",
            output::printable(email)
        )));
    }
    Ok(password)
}

/// This machine's name, for the token's name ("shipyard CLI on build-7").
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| output::printable(h.trim()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
}

/// A warning on stderr, made printable (it may quote the server).
pub fn warn(text: &str) {
    eprintln!("warning: {}", output::printable(text));
}
