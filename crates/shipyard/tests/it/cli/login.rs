//! `login --email` signs in and makes a token named for the machine (only the token is
//! stored); `logout` signs in again to revoke it, keeps the login when it cannot, and leaves a
//! token the user gave alone.

use crate::support::cli::{Ran, Shell, json_of, logged_in, run};
use crate::support::{PASSWORD, TestServer};
use serde_json::Value;
use shipyard_client::Client;
use std::os::unix::fs::PermissionsExt;

/// `session`'s user's tokens.
async fn tokens(session: &Client) -> Vec<Value> {
    let list = session
        .get("/account/api-tokens")
        .await
        .expect("request")
        .ok()
        .expect("tokens");
    list["items"].as_array().expect("items").clone()
}

/// `shipyard <args>` in `shell` with `stdin` written to it.
async fn with_stdin(shell: &Shell, args: &[&str], stdin: &str) -> Ran {
    run(shell.config.path(), shell.cwd.path(), args, stdin, &[]).await
}

/// `shipyard login --email <email>` against `server` with `password` on stdin.
async fn email_login(shell: &Shell, server: &TestServer, email: &str, password: &str) -> Ran {
    let args = ["login", "--server", &server.base, "--email", email, "--json"];
    with_stdin(shell, &args, &format!("{password}\n")).await
}

/// The stored login of `shell`.
fn stored(shell: &Shell) -> Value {
    let path = shell.config.path().join("login.json");
    let mode = std::fs::metadata(&path).expect("stored login").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the stored login is readable by its user alone");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("login.json is JSON")
}

/// Whether `token` still authenticates on `server`.
async fn valid(server: &TestServer, token: &str) -> bool {
    let answer = server
        .client()
        .with_token(token)
        .get("/auth/me")
        .await
        .expect("request");
    answer.status == 200
}

#[tokio::test]
async fn login_with_email_makes_a_token_for_this_machine_and_logout_revokes_it() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = Shell::new();

    let refused = email_login(&shell, &server, &ada.email, "not the password").await;
    assert_eq!(
        refused.code, 4,
        "a wrong password is an auth failure: {}",
        refused.stderr
    );
    assert!(!shell.config.path().join("login.json").exists(), "nothing stored");
    let nowhere = with_stdin(&shell, &["login", "--email", &ada.email], &format!("{PASSWORD}\n")).await;
    assert_eq!(nowhere.code, 2, "no server named: {}", nowhere.stderr);

    let answer = json_of(&email_login(&shell, &server, &ada.email, PASSWORD).await);
    assert_eq!(answer["me"]["user"]["email"], ada.email.as_str());
    let login = stored(&shell);
    assert_eq!(login["tokenId"], answer["tokenId"]);
    assert_eq!(login["email"], ada.email.as_str());
    assert!(login.get("session").is_none(), "no session is stored: {login}");
    let token = login["token"].as_str().expect("token").to_owned();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let made = tokens(&ada.session).await;
    let made = made
        .iter()
        .find(|t| t["id"] == login["tokenId"])
        .expect("the token is listed");
    assert_eq!(made["name"], format!("shipyard CLI on {}", host.trim()));
    assert!(made["expiresAt"].is_string(), "it expires: {made}");
    let me = json_of(&shell.run(&["whoami", "--json"]).await);
    assert_eq!(me["authMethod"], "token");

    // No password, or a wrong one: nothing is half done, the login stays.
    let silent = with_stdin(&shell, &["logout"], "").await;
    assert_eq!(silent.code, 2, "{}", silent.stderr);
    assert!(silent.stderr.contains("keep-token"), "{}", silent.stderr);
    let wrong = with_stdin(&shell, &["logout"], "nope\n").await;
    assert_eq!(wrong.code, 4, "{}", wrong.stderr);
    assert_eq!(stored(&shell)["token"], token.as_str());
    assert!(valid(&server, &token).await);

    let out = with_stdin(&shell, &["logout"], &format!("{PASSWORD}\n")).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("revoked"), "{}", out.stdout);
    assert!(!shell.config.path().join("login.json").exists());
    assert!(!valid(&server, &token).await, "the token login made is revoked");
    assert!(!tokens(&ada.session).await.iter().any(|t| t["id"] == login["tokenId"]));

    // Control: a token the user gave is forgotten without a password and stays valid.
    let shell = logged_in(&server, &ada).await;
    assert!(stored(&shell).get("tokenId").is_none());
    let out = shell.run(&["logout"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("stays valid"), "{}", out.stdout);
    assert!(valid(&server, &ada.token_secret).await);
}

#[tokio::test]
async fn a_second_login_revokes_the_first_token_and_a_failed_logout_keeps_the_login() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = Shell::new();
    assert_eq!(email_login(&shell, &server, &ada.email, PASSWORD).await.code, 0);
    let first = stored(&shell)["token"].as_str().expect("token").to_owned();
    assert_eq!(email_login(&shell, &server, &ada.email, PASSWORD).await.code, 0);
    let second = stored(&shell)["token"].as_str().expect("token").to_owned();
    assert!(!valid(&server, &first).await, "the first token is revoked");
    assert!(valid(&server, &second).await, "control: the new one works");

    // --keep-token only forgets.
    let kept = shell.run(&["logout", "--keep-token"]).await;
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert!(valid(&server, &second).await);
    assert!(!shell.config.path().join("login.json").exists());

    // The server gone: the revocation cannot happen, so the login is kept to try again.
    assert_eq!(email_login(&shell, &server, &ada.email, PASSWORD).await.code, 0);
    let third = stored(&shell)["token"].as_str().expect("token").to_owned();
    server.terminate();
    let out = with_stdin(&shell, &["logout"], &format!("{PASSWORD}\n")).await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    let prefix: String = third.chars().take(14).collect();
    assert!(
        out.stderr.contains(&prefix) && out.stderr.contains("not logged out"),
        "{}",
        out.stderr
    );
    assert_eq!(stored(&shell)["token"], third.as_str(), "the login is kept");
}

#[tokio::test]
async fn tokens_commands_make_list_and_revoke_scoped_tokens() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = Shell::new();
    let pass = format!("{PASSWORD}\n");
    let base = ["--server", server.base.as_str(), "--email", ada.email.as_str()];

    // A read-only token for an agent: printed once, on stdout alone.
    let mut args = vec!["tokens", "create", "agent", "--scope", "read"];
    args.extend(base);
    let made = with_stdin(&shell, &args, &pass).await;
    assert_eq!(made.code, 0, "{}", made.stderr);
    let token = made.stdout.trim().to_owned();
    assert!(token.starts_with("shpat_"), "{}", made.stdout);
    assert!(made.stderr.contains("may: read"), "{}", made.stderr);
    let bad = with_stdin(&shell, &["tokens", "create", "x", "--scope", "root"], &pass).await;
    assert_ne!(bad.code, 0, "an unknown scope is refused");
    assert!(bad.stderr.contains("read, deploy or write"), "{}", bad.stderr);

    // Logging in with it says what it may do; a write with it is refused naming the scope.
    let login = with_stdin(&shell, &["login", "--server", &server.base], &format!("{token}\n")).await;
    assert_eq!(login.code, 0, "{}", login.stderr);
    assert!(
        login.stdout.contains("This token (agent) may: read."),
        "{}",
        login.stdout
    );
    let write = shell
        .run(&["projects", "create", "web", "--repo", "https://example.com/x.git"])
        .await;
    assert_ne!(write.code, 0);
    assert!(write.stderr.contains("has the scope read"), "{}", write.stderr);

    // The list shows scopes and where the token was last used from; revoke ends it.
    let mut args = vec!["tokens", "list", "--json"];
    args.extend(base);
    let listed = json_of(&with_stdin(&shell, &args, &pass).await);
    let row = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|t| t["name"] == "agent")
        .expect("listed")
        .clone();
    assert_eq!(row["scopes"], serde_json::json!(["read"]));
    assert_eq!(row["lastUsedIp"], "127.0.0.1");
    let id = row["id"].as_str().expect("id");
    let mut args = vec!["tokens", "revoke", id];
    args.extend(base);
    let revoked = with_stdin(&shell, &args, &pass).await;
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        !valid(&server, &token).await,
        "the revoked token no longer authenticates"
    );
    assert!(valid(&server, &ada.token_secret).await, "the others stay");
    let again = with_stdin(&shell, &args, &pass).await;
    assert_ne!(again.code, 0, "revoking an unknown token says so");
}
