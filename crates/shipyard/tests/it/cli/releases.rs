//! `shipyard secrets` (values from stdin or a file only) and `rollback` (no rebuild, the old build serves).

use crate::support::TestServer;
use crate::support::cli::{assert_lists_as_api, json_of, logged_in, run};
use crate::support::deploy::static_build;
use crate::support::edge::fetch;

#[tokio::test]
async fn secrets_set_from_stdin_or_a_file_and_rollback_serves_the_old_build() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "web",
            "static",
            &[("README.md", "hello")],
            static_build("mkdir -p dist && printf '%s' \"$GREETING\" > dist/index.html"),
        )
        .await;
    let shell = logged_in(&server, &ada).await;
    let set = run(
        shell.config.path(),
        shell.cwd.path(),
        &["secrets", "set", "GREETING", "--project", "web"],
        "hello-one\n",
        &[],
    )
    .await;
    assert_eq!(set.code, 0, "{}", set.stderr);
    let first = shell.run(&["deploy", "--project", "web"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let host = first
        .stdout
        .trim()
        .trim_start_matches("http://")
        .split(':')
        .next()
        .expect("host")
        .to_owned();
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "hello-one");

    let file = shell.cwd.path().join("greeting.txt");
    std::fs::write(&file, "hello-two").expect("value file");
    let from_file = file.to_str().expect("path");
    let again = shell
        .run(&[
            "secrets",
            "set",
            "GREETING",
            "--project",
            "web",
            "--from-file",
            from_file,
        ])
        .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let listed = assert_lists_as_api(
        &shell.run(&["secrets", "list", "--project", "web", "--json"]).await,
        &ada.token,
        &format!(
            "/tenants/{}/secrets?scope=project&projectId={}",
            ada.tenant_id, app.project_id
        ),
        "items",
    )
    .await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "one secret, a new version: {listed}"
    );
    assert_eq!(listed[0]["version"], 2);
    assert!(listed[0].get("value").is_none(), "no value is ever listed");
    assert_eq!(shell.run(&["deploy", "--project", "web"]).await.code, 0);
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "hello-two");

    let back = shell
        .run(&["rollback", "--project", "web", "--reason", "two is wrong"])
        .await;
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert!(back.stderr.contains("Rolled back to v1 as v3"), "{}", back.stderr);
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "hello-one");
    let releases = assert_lists_as_api(
        &shell.run(&["releases", "list", "--project", "web", "--json"]).await,
        &ada.token,
        &format!(
            "/tenants/{}/projects/{}/releases?environmentId={}",
            ada.tenant_id, app.project_id, app.environment_id
        ),
        "items",
    )
    .await;
    assert_eq!(releases[0]["version"], "v3");
    assert_eq!(releases[0]["status"], "active");
    assert!(releases[0]["rollbackOf"].is_string(), "{releases}");
    let deployments = ada
        .token
        .get(&format!(
            "/tenants/{}/projects/{}/deployments",
            ada.tenant_id, app.project_id
        ))
        .await
        .expect("list")
        .ok()
        .expect("deployments");
    assert_eq!(deployments["total"], 2, "a rollback builds nothing");
    let to_active = shell.run(&["rollback", "v3", "--project", "web"]).await;
    assert_eq!(
        to_active.code, 1,
        "rolling back to the active release is refused: {}",
        to_active.stderr
    );

    let workspace = run(
        shell.config.path(),
        shell.cwd.path(),
        &["secrets", "set", "SHARED"],
        "x",
        &[],
    )
    .await;
    assert_eq!(workspace.code, 0, "{}", workspace.stderr);
    assert!(workspace.stdout.contains("workspace scope"), "{}", workspace.stdout);
    assert_eq!(
        shell
            .run(&["secrets", "unset", "GREETING", "--project", "web"])
            .await
            .code,
        0
    );
    let gone = json_of(&shell.run(&["secrets", "list", "--project", "web", "--json"]).await);
    assert_eq!(gone, serde_json::json!([]));
    let missing = shell.run(&["secrets", "unset", "GREETING", "--project", "web"]).await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
}
