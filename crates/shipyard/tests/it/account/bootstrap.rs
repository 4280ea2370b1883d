//! `shipyard admin bootstrap`: headless set-up beside a running server.

use crate::support::{TestServer, binary};
use std::io::Write;
use std::process::{Command, Stdio};

fn bootstrap(server: &TestServer, email: &str, workspace: &str, password: Option<&str>) -> String {
    let mut cmd = Command::new(binary());
    cmd.args([
        "admin",
        "bootstrap",
        "--email",
        email,
        "--workspace",
        workspace,
        "--data-dir",
    ])
    .arg(server.data_dir());
    if password.is_some() {
        cmd.arg("--password-stdin");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(pw) = password {
        writeln!(stdin, "{pw}").expect("write password");
    }
    drop(stdin);
    let output = child.wait_with_output().expect("bootstrap runs");
    assert!(
        output.status.success(),
        "bootstrap failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "bootstrap prints the token and nothing else: {stdout:?}"
    );
    lines[0].to_owned()
}

#[tokio::test]
async fn bootstrap_makes_an_admin_a_workspace_and_a_token_beside_a_running_server() {
    let server = TestServer::in_process(&[]);
    let token = bootstrap(&server, "ci@example.com", "CI", None);
    assert!(token.starts_with("shpat_"));
    let me = server
        .client()
        .with_token(&token)
        .me()
        .await
        .expect("token works against the running server");
    assert!(me.user.is_platform_admin, "first user is platform admin");
    assert_eq!(me.memberships[0].tenant_name, "CI");
    assert_eq!(me.memberships[0].role, shipyard_core::Role::Owner);

    // Again: same user, same workspace, a fresh token; the old one keeps working.
    let second = bootstrap(&server, "ci@example.com", "CI", None);
    assert_ne!(second, token);
    let again = server
        .client()
        .with_token(&second)
        .me()
        .await
        .expect("second token works");
    assert_eq!(again.memberships.len(), 1, "no duplicate workspace");
    assert!(server.client().with_token(&token).me().await.is_ok());

    // Without a password the user cannot log in with one; with --password-stdin they can.
    assert!(
        server
            .client()
            .login("ci@example.com", "anything at all")
            .await
            .is_err()
    );
    let other = bootstrap(&server, "ops@example.com", "Ops", Some("a long password"));
    let ops = server.client().with_token(&other).me().await.expect("me");
    assert!(!ops.user.is_platform_admin, "only the first user is admin");
    server
        .client()
        .login("ops@example.com", "a long password")
        .await
        .expect("password login");
}

#[test]
fn bootstrap_reports_bad_input_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = Command::new(binary())
        .args([
            "admin",
            "bootstrap",
            "--email",
            "nope",
            "--workspace",
            "CI",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--email"));
    assert!(output.stdout.is_empty(), "nothing on stdout when it fails");
}
