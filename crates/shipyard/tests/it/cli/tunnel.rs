//! `shipyard databases connect` and `backups` from the command line (#35): psql through the
//! local port writes and reads a row; closing the tunnel closes the database's connection; a
//! viewer's token and no token are refused the tunnel; a backup is taken, downloaded as a dump
//! pg_restore reads, and restored over the database.

use crate::support::cli::{json_of, logged_in};
use crate::support::databases::{RunningDatabase, psql};
use crate::support::{TestServer, assert_error};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Connections of the tenant's role other than the asking one.
const OTHERS: &str = "SELECT count(*) FROM pg_stat_activity WHERE usename = current_user AND pid <> pg_backend_pid()";

#[tokio::test]
async fn psql_goes_through_the_tunnel_and_backups_go_through_the_cli() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, port, url } = ada
        .running_database(
            &json!({ "name": "orders", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }),
        )
        .await;
    let shell = logged_in(&server, &ada).await;

    let mut connect = tokio::process::Command::new(crate::support::binary())
        .args(["databases", "connect", "orders"])
        .current_dir(shell.cwd.path())
        .env("SHIPYARD_CONFIG_DIR", shell.config.path())
        .env_remove("SHIPYARD_TOKEN")
        .env_remove("SHIPYARD_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn connect");
    let mut lines = BufReader::new(connect.stdout.take().expect("stdout")).lines();
    let local = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("Forwarding 127.0.0.1:") {
                return rest.split_whitespace().next().and_then(|p| p.parse::<u16>().ok());
            }
        }
        None
    })
    .await
    .expect("connect printed its port in time")
    .expect("a local port");
    let through = url.replace(&format!("127.0.0.1:{port}"), &format!("127.0.0.1:{local}"));
    assert_ne!(through, url, "positive control: the URL now names the local port");
    assert_eq!(
        psql(
            &through,
            "CREATE TABLE t (n int); INSERT INTO t VALUES (42); SELECT n FROM t"
        ),
        Ok("42".to_owned())
    );

    // An idle session through the tunnel is one connection of the role; it goes with the tunnel.
    let mut idle = tokio::process::Command::new("psql")
        .arg(&through)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("psql");
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql(&url, OTHERS) != Ok("1".to_owned()) {
        assert!(
            Instant::now() < deadline,
            "the idle session never connected: {:?}",
            psql(&url, OTHERS)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pid = connect.id().expect("pid");
    let stopped = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    let ended = tokio::time::timeout(Duration::from_secs(30), connect.wait())
        .await
        .expect("connect ended after Ctrl-C")
        .expect("status");
    assert!(ended.success(), "{ended}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while psql(&url, OTHERS) != Ok("0".to_owned()) {
        assert!(
            Instant::now() < deadline,
            "the database's connection outlived the tunnel: {:?}",
            psql(&url, OTHERS)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = idle.kill().await;

    // The tunnel is a member's: a viewer's token and no token are refused.
    let tunnel = format!("/tenants/{}/databases/{id}/tunnel", ada.tenant_id);
    let upgrade = |client: &shipyard_client::Client| {
        client
            .request(reqwest::Method::GET, &tunnel)
            .header("connection", "Upgrade")
            .header("upgrade", "shipyard-tcp")
    };
    let viewer = ada.add_viewer(&server, "viewer@example.com").await;
    assert_error(&viewer.token.send(upgrade(&viewer.token)).await.expect("viewer"), 403);
    assert_error(
        &server
            .client()
            .send(upgrade(&server.client()))
            .await
            .expect("anonymous"),
        401,
    );
    assert_error(&ada.token.get(&tunnel).await.expect("not an upgrade"), 400);

    // Backups from the command line: taken (and proven), downloaded, restored over the database.
    let taken = json_of(&shell.run(&["databases", "backups", "create", "orders", "--json"]).await);
    assert_eq!(taken["status"], "completed", "{taken}");
    let backup = taken["id"].as_str().expect("id");
    let listed = shell.run(&["databases", "backups", "list", "orders"]).await;
    assert!(listed.stdout.contains(backup), "{}", listed.stdout);
    let file = shell.cwd.path().join("orders.dump");
    let saved = shell
        .run(&[
            "databases",
            "backups",
            "download",
            "orders",
            backup,
            "-o",
            file.to_str().expect("path"),
        ])
        .await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let listed = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(&file)
        .output()
        .expect("pg_restore");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    psql(&url, "DELETE FROM t").expect("delete");
    let restored = shell
        .run(&["databases", "backups", "restore", "orders", backup, "--target", "same"])
        .await;
    assert_eq!(restored.code, 0, "{}", restored.stderr);
    assert!(restored.stdout.contains("to undo"), "{}", restored.stdout);
    assert_eq!(psql(&url, "SELECT n FROM t"), Ok("42".to_owned()));
    let verified = shell.run(&["databases", "backups", "verify", "orders", backup]).await;
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert!(verified.stdout.contains("proven by a restore"), "{}", verified.stdout);
}
