//! `login --email` signs in and makes a token named for the machine; `logout` revokes that
//! token and ends the session, but leaves a token the user gave alone.

use crate::support::cli::{Ran, Shell, json_of, logged_in, run};
use crate::support::{PASSWORD, TestServer};
use serde_json::Value;
use shipyard_client::Client;

/// The names of `session`'s user's tokens.
async fn token_names(session: &Client) -> Vec<String> {
    let list = session
        .get("/account/api-tokens")
        .await
        .expect("request")
        .ok()
        .expect("tokens");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["name"].as_str().expect("name").to_owned())
        .collect()
}

/// `shipyard login --email <email> [--json]` in `shell` with `password` on stdin.
async fn email_login(shell: &Shell, server: &TestServer, email: &str, password: &str, json: bool) -> Ran {
    let mut args = vec!["login", "--server", &server.base, "--email", email];
    if json {
        args.push("--json");
    }
    run(
        shell.config.path(),
        shell.cwd.path(),
        &args,
        &format!("{password}\n"),
        &[],
    )
    .await
}

/// The stored login of `shell`.
fn stored(shell: &Shell) -> Value {
    let text = std::fs::read_to_string(shell.config.path().join("login.json")).expect("stored login");
    serde_json::from_str(&text).expect("login.json is JSON")
}

#[tokio::test]
async fn login_with_email_makes_a_token_for_this_machine_and_logout_revokes_it() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = Shell::new();
    let refused = email_login(&shell, &server, &ada.email, "not the password", true).await;
    assert_eq!(
        refused.code, 4,
        "a wrong password is an auth failure: {}",
        refused.stderr
    );
    assert!(!shell.config.path().join("login.json").exists(), "nothing stored");

    let ran = email_login(&shell, &server, &ada.email, PASSWORD, true).await;
    let answer = json_of(&ran);
    assert_eq!(answer["me"]["user"]["email"], ada.email.as_str());
    let login = stored(&shell);
    let token = login["token"].as_str().expect("token").to_owned();
    let session = login["session"].as_str().expect("session kept for logout").to_owned();
    assert_eq!(login["tokenId"], answer["tokenId"]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    let name = format!("shipyard CLI on {}", host.trim());
    assert!(
        token_names(&ada.session).await.contains(&name),
        "token named for the machine"
    );
    let me = json_of(&shell.run(&["whoami", "--json"]).await);
    assert_eq!(me["authMethod"], "token", "commands use the new token, not the session");

    let out = shell.run(&["logout"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("revoked"), "{}", out.stdout);
    assert!(!shell.config.path().join("login.json").exists());
    let client = server.client();
    let after = client.with_token(&token).get("/auth/me").await.expect("request");
    assert_eq!(after.status, 401, "the token login made is revoked");
    let ended = client.with_session(&session).get("/auth/me").await.expect("request");
    assert_eq!(ended.status, 401, "the session login signed in with is over");
    assert!(!token_names(&ada.session).await.contains(&name));

    // Control: a token the user gave is forgotten but stays valid.
    let shell = logged_in(&server, &ada).await;
    assert!(stored(&shell).get("tokenId").is_none());
    let out = shell.run(&["logout"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("stays valid"), "{}", out.stdout);
    assert_eq!(ada.token.me().await.expect("still valid")["authMethod"], "token");
}

#[tokio::test]
async fn a_second_email_login_revokes_the_first_token_and_a_failed_revocation_says_so() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = Shell::new();
    assert_eq!(email_login(&shell, &server, &ada.email, PASSWORD, false).await.code, 0);
    let first = stored(&shell)["token"].as_str().expect("token").to_owned();
    assert_eq!(email_login(&shell, &server, &ada.email, PASSWORD, false).await.code, 0);
    let second = stored(&shell);
    let client = server.client();
    assert_eq!(
        client.with_token(&first).get("/auth/me").await.expect("request").status,
        401
    );
    let second_token = second["token"].as_str().expect("token").to_owned();
    assert_eq!(
        client.with_token(&second_token).me().await.expect("valid")["authMethod"],
        "token"
    );

    // The session ends elsewhere (signed out in another tool): logout cannot revoke, says so
    // with the token's prefix, exits 4, and still forgets the login.
    let session = second["session"].as_str().expect("session").to_owned();
    client.with_session(&session).logout().await.expect("sign out");
    let out = shell.run(&["logout"]).await;
    assert_eq!(out.code, 4, "{}", out.stderr);
    let prefix: String = second_token.chars().take(14).collect();
    assert!(
        out.stderr.contains(&prefix) && out.stderr.contains("not revoked"),
        "{}",
        out.stderr
    );
    assert!(!shell.config.path().join("login.json").exists());
}
