//! The build sandbox: secrets reach builds but never their logs, the platform's files stay
//! invisible, a data directory behind a private parent still builds, and insecure mode says so.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use crate::support::git::make_repo;
use serde_json::json;

#[tokio::test]
async fn builds_get_secrets_redacted_and_cannot_see_the_platform() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let data = server.data_dir();
    let script = format!(
        "echo \"token is $API_TOKEN\"; echo \"encoded $(printf %s \"$API_TOKEN\" | base64)\"; \
         test -r /etc/os-release && echo 'control: /etc/os-release readable'; \
         cat {data}/master.key >/dev/null 2>&1 && echo 'LEAK: master.key' || echo 'hidden: master.key'; \
         ls {data}/shipyard.db >/dev/null 2>&1 && echo 'LEAK: database' || echo 'hidden: database'; \
         cat /proc/1/root{data}/master.key >/dev/null 2>&1 && echo 'LEAK: proc root' || echo 'hidden: /proc/1/root'; \
         touch /usr/pwned 2>/dev/null && echo 'LEAK: host writable' || echo 'read-only: /usr'; \
         echo \"user $(id -un)\"; mkdir -p dist; echo ok > dist/index.html",
        data = data.display()
    );
    let app = ada
        .deployable(
            &server,
            "probe",
            "static",
            &[("index.html", "x")],
            static_build(&script),
        )
        .await;
    let secret = "sk_live_4f9a1c7e2b8d";
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "API_TOKEN", "value": secret, "scope": "project", "projectId": app.project_id }),
    )
    .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let lines: Vec<String> = ada
        .log_lines(done["id"].as_str().expect("id"))
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    let text = lines.join("\n");
    assert!(
        text.contains("token is ****"),
        "the secret reached the build and was redacted: {text}"
    );
    assert!(text.contains("encoded ****"), "its base64 form too: {text}");
    // The logged command line names the LEAK markers; only output lines count.
    assert!(
        !text.contains(secret) && !lines.iter().any(|l| l.starts_with("LEAK")),
        "{text}"
    );
    for wall in [
        "control: /etc/os-release readable",
        "hidden: master.key",
        "hidden: database",
        "hidden: /proc/1/root",
        "read-only: /usr",
        "user app",
    ] {
        assert!(text.contains(wall), "missing `{wall}` in:\n{text}");
    }
    assert!(text.contains("Secrets: API_TOKEN (v1, project)"), "{text}");
    let release = ada
        .token
        .get(&format!(
            "/tenants/{}/deployments/{}",
            ada.tenant_id,
            done["id"].as_str().expect("id")
        ))
        .await
        .expect("request");
    assert!(!release.body.to_string().contains(secret));
}

#[tokio::test]
async fn a_data_directory_behind_a_private_parent_still_builds() {
    use std::os::unix::fs::PermissionsExt;
    // Like `cargo run -- serve` from /root: sandbox users cannot enter the data directory.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let server = TestServer::start_in(dir, &[]);
    assert!(
        server
            .stdout()
            .contains("build workspaces and caches: /var/tmp/shipyard-work-"),
        "{}",
        server.stdout()
    );
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "private",
            "static",
            &[("index.html", "x")],
            static_build("mkdir -p dist && echo ok > dist/index.html"),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let artifact = server
        .artifact(done["releaseId"].as_str().expect("release"))
        .join("dist/index.html");
    assert_eq!(
        std::fs::read_to_string(artifact).expect("artifact in the data directory"),
        "ok\n"
    );

    // The work root holds every project's build workspaces: a local repository planted there is
    // refused as one in the data directory is, while the same repository elsewhere connects.
    let path = format!("/tenants/{}/repository-connections", ada.tenant_id);
    let connect = |dir: std::path::PathBuf| {
        let (client, path) = (ada.token.clone(), path.clone());
        async move {
            let url = make_repo(&dir, &[("index.html", "x")]);
            client
                .post(&path, &json!({ "provider": "git", "url": url }))
                .await
                .expect("request")
        }
    };
    let planted = server.work_root().join("planted");
    let refused = connect(planted.clone()).await;
    std::fs::remove_dir_all(&planted).expect("planted repository removed");
    assert_eq!(refused.status, 422, "{}", refused.body);
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("work root"), "{message}");
    let open = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let elsewhere = connect(open.path().join("elsewhere")).await;
    assert_eq!(elsewhere.status, 201, "positive control: {}", elsewhere.body);
}

#[tokio::test]
async fn insecure_mode_builds_unconfined_and_says_so_loudly() {
    let server = TestServer::start(&["--insecure-no-sandbox"]);
    assert!(
        server.stdout().contains("INSECURE: builds run unconfined"),
        "{}",
        server.stdout()
    );
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "bare",
            "static",
            &[("index.html", "x")],
            static_build("mkdir -p dist && echo ok > dist/index.html"),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let lines = ada.log_lines(done["id"].as_str().expect("id")).await;
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().is_some_and(|t| t.contains("INSECURE"))),
        "every build log says so"
    );
}

#[tokio::test]
async fn the_platforms_own_lines_and_errors_are_redacted_too() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let secret = "sk_live_9d2e7f1a3c5b";
    // The value shows up in the build command (so in the `$ …` line and the error) and in the
    // commit subject (so in the `Commit …` line and the event).
    let app = ada
        .deployable(
            &server,
            "leaky",
            "static",
            &[("index.html", "x")],
            static_build(&format!("echo start; test {secret} = nope")),
        )
        .await;
    crate::support::git::commit(&app.repo, &[("index.html", "y")], &format!("rotate key {secret}"));
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "API_KEY", "value": secret, "scope": "workspace" }),
    )
    .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "failed", "{done}");
    let id = done["id"].as_str().expect("id");
    let lines: Vec<String> = ada
        .log_lines(id)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Positive controls: the lines that would carry the value are there, masked.
    assert!(
        lines.iter().any(|l| l.starts_with("$ echo start; test **** = nope")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Commit ") && l.ends_with("rotate key ****")),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l == "start"), "the build ran: {lines:?}");
    let error = done["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("test **** = nope") && error.contains("exited with code 1"),
        "{error}"
    );
    let view = ada
        .token
        .get(&format!("/tenants/{}/deployments/{id}", ada.tenant_id))
        .await
        .expect("request")
        .body
        .to_string();
    let logs = lines.join("\n");
    for (what, text) in [("log", logs.as_str()), ("deployment", view.as_str())] {
        assert!(!text.contains(secret), "{what} leaks the value: {text}");
    }
}
