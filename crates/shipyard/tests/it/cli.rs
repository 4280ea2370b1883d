//! The client commands (`shipyard login`, `deploy`, `logs`, …) run as the real binary against
//! a real server: exit codes, streamed logs, the live URL, machine output.

use crate::support::cli::{CuttingProxy, Ran, run};
use crate::support::deploy::static_build;
use crate::support::edge::{fetch, live_host};
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::Ordering;

/// A user's command line: a config directory and a working directory of its own.
struct Shell {
    config: tempfile::TempDir,
    cwd: tempfile::TempDir,
}

impl Shell {
    fn new() -> Self {
        Self {
            config: tempfile::tempdir().expect("config dir"),
            cwd: tempfile::tempdir().expect("cwd"),
        }
    }

    async fn run(&self, args: &[&str]) -> Ran {
        run(self.config.path(), self.cwd.path(), args, "", &[]).await
    }

    async fn run_in(&self, cwd: &Path, args: &[&str]) -> Ran {
        run(self.config.path(), cwd, args, "", &[]).await
    }
}

fn json_of(ran: &Ran) -> Value {
    assert_eq!(ran.code, 0, "exit 0 expected; stderr:\n{}", ran.stderr);
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", ran.stdout))
}

async fn logged_in(server: &TestServer, ada: &Tenant) -> Shell {
    let shell = Shell::new();
    let ran = run(
        shell.config.path(),
        shell.cwd.path(),
        &["login", "--server", &server.base],
        &format!("{}\n", ada.token_secret),
        &[],
    )
    .await;
    assert_eq!(ran.code, 0, "login: {}", ran.stderr);
    let stored = shell.config.path().join("login.json");
    let mode = std::fs::metadata(&stored).expect("stored login").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the stored token is readable by its user alone");
    shell
}

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

    let history = json_of(&shell.run(&["deployments", "list", "--project", "web", "--json"]).await);
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

#[tokio::test]
async fn logs_follow_survives_a_cut_stream_with_no_line_lost_or_repeated() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "chatty",
            "static",
            &[("README.md", "hello")],
            static_build("mkdir -p dist && echo ok > dist/index.html && for i in $(seq 1 400); do echo line-$i; done"),
        )
        .await;
    let deployment = ada.deploy(&app).await;
    let done = ada.finished(deployment["id"].as_str().expect("id"), 120).await;
    assert_eq!(done["status"], "ready", "{done}");

    let proxy = CuttingProxy::start(&server.base, 8_000).await;
    let shell = Shell::new();
    let followed = run(
        shell.config.path(),
        shell.cwd.path(),
        &["logs", "DEP-0001", "--follow", "--json", "--server", &proxy.base],
        "",
        &[("SHIPYARD_TOKEN", &ada.token_secret)],
    )
    .await;
    assert_eq!(followed.code, 0, "{}", followed.stderr);
    assert!(proxy.cut.load(Ordering::SeqCst), "the proxy cut the stream once");
    assert!(
        proxy.connections.load(Ordering::SeqCst) >= 2,
        "the client connected again"
    );
    let lines: Vec<Value> = followed
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON lines"))
        .collect();
    let numbered: Vec<String> = lines
        .iter()
        .filter_map(|l| l["line"].as_str())
        .filter(|l| l.starts_with("line-"))
        .map(str::to_owned)
        .collect();
    let expected: Vec<String> = (1..=400).map(|i| format!("line-{i}")).collect();
    assert_eq!(numbered, expected, "every line once, in order");
    let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seq grows by one: {seqs:?}");

    // Control: the same command straight to the server sees the same lines.
    let direct = run(
        shell.config.path(),
        shell.cwd.path(),
        &["logs", "DEP-0001", "--json", "--server", &server.base],
        "",
        &[("SHIPYARD_TOKEN", &ada.token_secret)],
    )
    .await;
    assert_eq!(direct.stdout.lines().count(), lines.len(), "{}", direct.stderr);
}

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
    let listed = json_of(&shell.run(&["secrets", "list", "--project", "web", "--json"]).await);
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
    let releases = json_of(&shell.run(&["releases", "list", "--project", "web", "--json"]).await);
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
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("type"),
        "the server's reason: {}",
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
    let envs = json_of(&shell.run(&["env", "list", "--project", "site", "--json"]).await);
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
