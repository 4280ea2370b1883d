//! `shipyard projects detect|create|delete`, `env list|create` and `deployments retry`.

use crate::support::TestServer;
use crate::support::cli::{assert_lists_as_api, json_of, logged_in};
use crate::support::edge::fetch;

#[tokio::test]
async fn projects_are_detected_created_given_environments_and_deleted() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let url = crate::support::git::make_repo(&server.dir.path().join("site"), &[("index.html", "<h1>hi</h1>")]);
    let shell = logged_in(&server, &ada).await;
    let connections = || async {
        ada.token
            .get(&format!("/tenants/{}/repository-connections", ada.tenant_id))
            .await
            .expect("list")
            .ok()
            .expect("connections")["total"]
            .clone()
    };

    let suggested = json_of(&shell.run(&["projects", "detect", "--repo", &url, "--json"]).await);
    assert_eq!(suggested["type"], "static", "{suggested}");
    assert_eq!(connections().await, 0, "detect removes the connection it made");
    let refused = shell
        .run(&["projects", "create", "site", "--repo", &url, "--type", "cobol"])
        .await;
    // A wrong `--type` is the command line's mistake (exit 2), found before anything is made.
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--type") && refused.stderr.contains("cobol"),
        "the reason names the flag and the value: {}",
        refused.stderr
    );
    assert_eq!(connections().await, 0, "a refused create leaves no connection behind");

    let made = json_of(
        &shell
            .run(&["projects", "create", "site", "--repo", &url, "--json"])
            .await,
    );
    assert_eq!(made["type"], "static", "the type was detected: {made}");
    let staging = shell
        .run(&["env", "create", "Staging", "--branch", "main", "--project", "site"])
        .await;
    assert_eq!(staging.code, 0, "{}", staging.stderr);
    let envs = assert_lists_as_api(
        &shell.run(&["env", "list", "--project", "site", "--json"]).await,
        &ada.token,
        &format!(
            "/tenants/{}/projects/{}",
            ada.tenant_id,
            made["id"].as_str().expect("id")
        ),
        "environments",
    )
    .await;
    let slugs: Vec<&str> = envs
        .as_array()
        .expect("envs")
        .iter()
        .filter_map(|e| e["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["production", "staging"]);
    let deployed = shell.run(&["deploy", "--project", "site", "--env", "staging"]).await;
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    assert!(
        deployed.stdout.starts_with("http://site-staging.acme."),
        "{}",
        deployed.stdout
    );
    let host = deployed.stdout.trim().trim_start_matches("http://");
    let host = host.split([':', '/']).next().expect("host");
    let live = fetch(&server, host, "/", &[]).await;
    assert_eq!(live.text(), "<h1>hi</h1>", "the printed URL serves the created project");
    let retried = json_of(&shell.run(&["deployments", "retry", "DEP-0001", "--json"]).await);
    assert_eq!(retried["trigger"], "retry", "{retried}");

    assert_eq!(
        shell.run(&["projects", "delete", "site"]).await.code,
        2,
        "no delete without --yes"
    );
    assert_eq!(shell.run(&["projects", "delete", "site", "--yes"]).await.code, 0);
    assert_eq!(
        json_of(&shell.run(&["projects", "list", "--json"]).await),
        serde_json::json!([])
    );
    assert_eq!(shell.run(&["projects", "show", "site"]).await.code, 1);
}
