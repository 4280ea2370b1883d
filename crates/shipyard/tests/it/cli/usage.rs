//! The client's failures a user can cause: no or a wrong token (4), a stopped server (5), bad
//! usage (2); every command's --help and the completion scripts.

use crate::support::TestServer;
use crate::support::cli::{Shell, run};

#[tokio::test]
async fn wrong_credentials_exit_4_a_stopped_server_5_and_bad_usage_2() {
    let server = TestServer::start(&[]);
    let shell = Shell::new();
    let anonymous = shell.run(&["whoami", "--server", &server.base]).await;
    assert_eq!(anonymous.code, 4, "{}", anonymous.stderr);
    assert!(anonymous.stderr.contains("not logged in"), "{}", anonymous.stderr);
    let wrong = run(
        shell.config.path(),
        shell.cwd.path(),
        &["projects", "list", "--server", &server.base],
        "",
        &[("SHIPYARD_TOKEN", "shpat_not-a-real-token")],
    )
    .await;
    assert_eq!(wrong.code, 4, "{}", wrong.stderr);
    let from_server = server
        .client()
        .with_token("shpat_not-a-real-token")
        .get("/auth/me")
        .await
        .expect("me")
        .ok()
        .expect_err("refused")
        .to_string();
    let message = from_server.split_once(": ").map_or(from_server.as_str(), |(_, m)| m);
    assert!(
        wrong.stderr.contains(message),
        "the server's message {message:?}: {}",
        wrong.stderr
    );
    let refused_login = run(
        shell.config.path(),
        shell.cwd.path(),
        &["login", "--server", &server.base],
        "shpat_not-a-real-token\n",
        &[],
    )
    .await;
    assert_eq!(refused_login.code, 4, "{}", refused_login.stderr);
    assert!(
        !shell.config.path().join("login.json").exists(),
        "a refused token is not stored"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let unreachable = run(
        shell.config.path(),
        shell.cwd.path(),
        &["projects", "list", "--server", &gone],
        "",
        &[("SHIPYARD_TOKEN", "shpat_x")],
    )
    .await;
    assert_eq!(unreachable.code, 5, "{}", unreachable.stderr);
    assert!(
        unreachable.stderr.starts_with("error: cannot reach the server"),
        "{}",
        unreachable.stderr
    );

    assert_eq!(shell.run(&["deploy", "--no-such-flag"]).await.code, 2);
    let no_project = run(
        shell.config.path(),
        shell.cwd.path(),
        &["deploy", "--server", &server.base],
        "",
        &[("SHIPYARD_TOKEN", &login_token(&server).await)],
    )
    .await;
    assert_eq!(no_project.code, 2, "no project named anywhere: {}", no_project.stderr);
    assert!(no_project.stderr.contains("shipyard.toml"), "{}", no_project.stderr);

    for command in [
        vec!["login"],
        vec!["logout"],
        vec!["whoami"],
        vec!["projects", "list"],
        vec!["projects", "show"],
        vec!["projects", "detect"],
        vec!["projects", "create"],
        vec!["projects", "delete"],
        vec!["env", "list"],
        vec!["env", "create"],
        vec!["deployments", "retry"],
        vec!["releases", "list"],
        vec!["rollback"],
        vec!["secrets", "list"],
        vec!["secrets", "set"],
        vec!["secrets", "unset"],
        vec!["databases", "list"],
        vec!["databases", "create"],
        vec!["databases", "show"],
        vec!["databases", "start"],
        vec!["databases", "stop"],
        vec!["databases", "delete"],
        vec!["databases", "url"],
        vec!["domains", "list"],
        vec!["domains", "add"],
        vec!["domains", "verify"],
        vec!["domains", "remove"],
        vec!["deploy"],
        vec!["deployments", "list"],
        vec!["deployments", "show"],
        vec!["deployments", "cancel"],
        vec!["logs"],
        vec!["open"],
        vec!["completions"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let help = shell.run(&args).await;
        assert_eq!(help.code, 0, "{command:?} --help: {}", help.stderr);
        assert!(
            help.stdout.contains("Example: "),
            "{command:?} --help has an example:\n{}",
            help.stdout
        );
    }
    let serve_help = std::process::Command::new(crate::support::binary())
        .args(["serve", "--help"])
        .output()
        .expect("serve --help");
    let serve_help = String::from_utf8_lossy(&serve_help.stdout);
    for flag in [
        "--dns-resolver",
        "--public-address",
        "--edge-workers",
        "--sandbox-network",
    ] {
        assert!(serve_help.contains(flag), "serve --help names {flag}:\n{serve_help}");
    }
    for shell_name in ["bash", "zsh", "fish"] {
        let script = shell.run(&["completions", shell_name]).await;
        assert_eq!(script.code, 0);
        assert!(script.stdout.contains("deploy"), "{shell_name} completes the commands");
    }
}

/// A token of a fresh user of `server`.
async fn login_token(server: &TestServer) -> String {
    server.tenant("grace@example.com", "Grace").await.token_secret
}
