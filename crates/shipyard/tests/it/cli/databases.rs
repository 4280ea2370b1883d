//! `shipyard databases …`: a database made, shown, reached with the URL the CLI prints only
//! when asked to show the password, attached to a project and detached, and deleted.

use crate::support::TestServer;
use crate::support::cli::{json_of, logged_in};
use crate::support::databases::psql;

#[tokio::test]
async fn a_database_is_made_reached_and_deleted_from_the_command_line() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let shell = logged_in(&server, &ada).await;
    let made = json_of(
        &shell
            .run(&["databases", "create", "orders", "--memory-mb", "128", "--json"])
            .await,
    );
    assert_eq!(made["status"], "provisioning", "{made}");
    let id = made["id"].as_str().expect("id");
    ada.database_running(id).await;
    let shown = shell.run(&["databases", "show", "orders"]).await;
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stdout.contains("running") && shown.stdout.contains("128 MiB memory"),
        "{}",
        shown.stdout
    );
    let listed = shell.run(&["databases", "list"]).await;
    assert!(listed.stdout.contains("orders"), "{}", listed.stdout);

    let hidden = shell.run(&["databases", "url", "orders"]).await;
    assert_eq!(hidden.code, 2, "the URL holds the password: {}", hidden.stdout);
    assert!(hidden.stderr.contains("--show-password"), "{}", hidden.stderr);
    assert!(!hidden.stdout.contains("postgres://"), "{}", hidden.stdout);
    let url = shell.run(&["databases", "url", "orders", "--show-password"]).await;
    assert_eq!(url.code, 0, "{}", url.stderr);
    assert_eq!(psql(url.stdout.trim(), "SELECT 40 + 2"), Ok("42".to_owned()));

    let web = ada.project_fixture(&server, "web").await;
    let attached = shell
        .run(&[
            "databases",
            "attach",
            "orders",
            "--project",
            "web",
            "--env",
            "staging",
            "--env-var",
            "ORDERS_URL",
        ])
        .await;
    assert_eq!(attached.code, 0, "{}", attached.stderr);
    assert!(attached.stdout.contains("next deployment"), "{}", attached.stdout);
    let shown = shell.run(&["databases", "show", "orders"]).await;
    assert!(
        shown.stdout.contains(&format!(
            "attached  {} ({}) as ORDERS_URL",
            web.project_id, web.environment_id
        )),
        "{}",
        shown.stdout
    );
    let detached = shell
        .run(&[
            "databases",
            "detach",
            "orders",
            "--project",
            "web",
            "--env",
            "staging",
            "--redeploy",
        ])
        .await;
    assert_eq!(detached.code, 0, "{}", detached.stderr);
    assert!(detached.stdout.contains("queued dep_"), "{}", detached.stdout);
    let twice = shell.run(&["databases", "detach", "orders", "--project", "web"]).await;
    assert_ne!(twice.code, 0, "nothing attached to every environment: {}", twice.stdout);
    assert!(twice.stderr.contains("not attached"), "{}", twice.stderr);

    let deleted = shell.run(&["databases", "delete", "orders"]).await;
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    let gone = shell.run(&["databases", "show", "orders"]).await;
    assert_ne!(gone.code, 0, "{}", gone.stdout);
}
