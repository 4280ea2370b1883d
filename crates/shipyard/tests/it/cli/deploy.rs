//! `shipyard deploy` run as the real binary against a real server: the build log streamed, the
//! live URL printed, and the exit code the result (0 ready, 1 failed, 3 canceled).

use crate::support::cli::{assert_lists_as_api, json_of, logged_in, run};
use crate::support::deploy::static_build;
use crate::support::edge::{fetch, live_host};
use crate::support::{Tenant, TestServer};
use serde_json::json;

#[tokio::test]
async fn deploy_streams_the_log_prints_the_live_url_and_exits_with_the_result() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "web",
            "static",
            &[("README.md", "hello")],
            static_build("mkdir -p dist && echo first-body > dist/index.html && echo building-the-site"),
        )
        .await;
    let shell = logged_in(&server, &ada).await;

    let me = json_of(&shell.run(&["whoami", "--json"]).await);
    assert_eq!(me["user"]["email"], "ada@example.com");
    let listed = json_of(&shell.run(&["projects", "list", "--json"]).await);
    let api = ada
        .token
        .get(&format!("/tenants/{}/projects", ada.tenant_id))
        .await
        .expect("list")
        .ok()
        .expect("projects");
    assert_eq!(listed, api["items"], "--json lists the API's own items");

    // shipyard.toml names the project, so `deploy` needs no flags.
    let repo = shell.cwd.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).expect("repo dir");
    std::fs::write(repo.join("shipyard.toml"), "project = \"web\"\n").expect("manifest");
    let deployed = shell.run_in(&repo, &["deploy", "--note", "from the cli"]).await;
    assert_eq!(deployed.code, 0, "deploy: {}", deployed.stderr);
    assert!(
        deployed.stderr.contains("building-the-site"),
        "the build log streamed: {}",
        deployed.stderr
    );
    let url = deployed.stdout.trim();
    assert!(
        url.starts_with("http://web-production.acme."),
        "the live URL on stdout: {url:?}"
    );
    let project = ada
        .token
        .get(&format!("/tenants/{}/projects/{}", ada.tenant_id, app.project_id))
        .await
        .expect("project")
        .ok()
        .expect("project");
    let live = fetch(&server, &live_host(&project), "/", &[]).await;
    assert_eq!(live.text().trim(), "first-body");

    // A failing build: exit 1 with the deployment's error.
    set_build(&ada, &app.project_id, "echo about-to-fail && exit 3").await;
    let failed = shell.run(&["deploy", "--project", "web"]).await;
    assert_eq!(failed.code, 1, "a failed deploy exits 1: {}", failed.stderr);
    assert!(failed.stderr.contains("about-to-fail"), "{}", failed.stderr);
    assert!(
        failed.stderr.contains("exited with code 3"),
        "the error is printed: {}",
        failed.stderr
    );

    // A canceled deploy exits 3.
    set_build(&ada, &app.project_id, "sleep 60").await;
    let queued = json_of(&shell.run(&["deploy", "--project", "web", "--no-wait", "--json"]).await);
    let reference = queued["ref"].as_str().expect("ref").to_owned();
    let waiting = {
        let (config, cwd) = (shell.config.path().to_owned(), shell.cwd.path().to_owned());
        let reference = reference.clone();
        tokio::spawn(async move { run(&config, &cwd, &["logs", &reference, "--follow"], "", &[]).await })
    };
    ada.wait_for(queued["id"].as_str().expect("id"), 60, |s| s == "building")
        .await;
    let canceled = shell.run(&["deployments", "cancel", &reference]).await;
    assert_eq!(canceled.code, 0, "cancel: {}", canceled.stderr);
    let followed = waiting.await.expect("follow task");
    assert_eq!(
        followed.code, 0,
        "logs --follow ends with the build: {}",
        followed.stderr
    );
    let again = json_of(&shell.run(&["deploy", "--project", "web", "--no-wait", "--json"]).await);
    let id = again["id"].as_str().expect("id").to_owned();
    let waiter = {
        let (config, cwd) = (shell.config.path().to_owned(), shell.cwd.path().to_owned());
        tokio::spawn(async move { run(&config, &cwd, &["deploy", "--project", "web"], "", &[]).await })
    };
    // The second deploy queues behind `id`; cancel both, so the waiting one ends canceled.
    ada.wait_for(&id, 60, |s| s == "building").await;
    let mine = wait_for_newer(&ada, &app.project_id, &id).await;
    for d in [&mine, &id] {
        let answer = ada
            .token
            .post(
                &format!("/tenants/{}/deployments/{d}/cancel", ada.tenant_id),
                &json!({}),
            )
            .await
            .expect("cancel");
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    let ended = waiter.await.expect("deploy task");
    assert_eq!(ended.code, 3, "a canceled deploy exits 3: {}", ended.stderr);
    // The building one ends too before the history is compared: the CLI's list and the API's
    // must be read of one state, not across the cancel.
    ada.wait_for(&id, 60, |s| s == "canceled").await;

    let history = assert_lists_as_api(
        &shell.run(&["deployments", "list", "--project", "web", "--json"]).await,
        &ada.token,
        &format!(
            "/tenants/{}/projects/{}/deployments?environmentId={}&perPage=100",
            ada.tenant_id, app.project_id, app.environment_id
        ),
        "items",
    )
    .await;
    let refs: Vec<&str> = history
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|d| d["ref"].as_str())
        .collect();
    assert_eq!(refs.len(), 5, "{refs:?}");
    let first = shell.run(&["logs", "DEP-0001"]).await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.contains("building-the-site"), "{}", first.stdout);
    let opened = shell.run(&["open", "--project", "web"]).await;
    assert_eq!(opened.stdout.trim(), url);
}

/// Sets the project's build command.
async fn set_build(ada: &Tenant, project: &str, command: &str) {
    ada.token
        .patch(
            &format!("/tenants/{}/projects/{project}/build-config", ada.tenant_id),
            &json!({ "buildCommand": command }),
        )
        .await
        .expect("patch")
        .ok()
        .expect("build-config");
}

/// The deployment of `project` made after `id` (the one the spawned `deploy` triggered).
async fn wait_for_newer(ada: &Tenant, project: &str, id: &str) -> String {
    for _ in 0..300 {
        let list = ada
            .token
            .get(&format!("/tenants/{}/projects/{project}/deployments", ada.tenant_id))
            .await
            .expect("list")
            .ok()
            .expect("deployments");
        if let Some(newest) = list["items"][0]["id"].as_str().filter(|n| *n != id) {
            return newest.to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the spawned deploy made no deployment within 30 s")
}
