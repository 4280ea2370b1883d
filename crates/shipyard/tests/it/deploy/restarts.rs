//! What a platform restart does to builds: the running one is queued again once and deploys
//! on its second attempt, a second interruption fails it, and inputs that no longer open (a
//! replaced master key) fail the deployment with the cause.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use serde_json::json;

/// Stops a server and starts another on the same data directory.
fn restart(server: &mut TestServer) -> TestServer {
    restart_after(server, |_| {})
}

/// Stops a server, lets `meddle` change its data directory, and starts another on it.
fn restart_after(server: &mut TestServer, meddle: impl FnOnce(&std::path::Path)) -> TestServer {
    assert!(server.terminate().success());
    meddle(&server.data_dir());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    TestServer::start_in(dir, &[])
}

#[tokio::test]
async fn a_restart_queues_the_running_build_again_once_and_keeps_the_queued_one() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "slow",
            "static",
            &[("index.html", "served")],
            static_build("echo started; sleep 4; mkdir dist && cp index.html dist/"),
        )
        .await;
    let running = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&running, 30, |s| s == "building").await;
    let queued = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    // `building` is set before the checkout: wait (bounded) for the build to be under way.
    let workspace = server.workspace(&app.project_id, &running, 1);
    for _ in 0..100 {
        if ada.log_lines(&running).await.iter().any(|l| l["line"] == "started") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(workspace.exists(), "the build has a workspace");

    let mut restarted = restart(&mut server);
    let ada = ada.clone_with_base(&restarted);
    // The interrupted build runs again as attempt 2 and deploys; the queued one follows it.
    let second = ada.finished(&running, 60).await;
    assert_eq!(second["status"], "ready", "{second}");
    assert_eq!(second["attempt"], 2);
    let lines: Vec<String> = ada
        .log_lines(&running)
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    let restarted_at = lines
        .iter()
        .position(|l| l.starts_with("restarted after a platform restart"))
        .unwrap_or_else(|| panic!("no restart line in {lines:?}"));
    assert!(
        lines[..restarted_at].iter().any(|l| l == "started") && lines[restarted_at..].iter().any(|l| l == "started"),
        "both attempts ran the build: {lines:?}"
    );
    let after = ada.finished(&queued, 60).await;
    assert_eq!(
        (after["status"].as_str(), after["attempt"].as_i64()),
        (Some("ready"), Some(1))
    );

    // Interrupted a second time, a deployment fails for good.
    let twice = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&twice, 30, |s| s == "building").await;
    let mut third = restart(&mut restarted);
    let ada = ada.clone_with_base(&third);
    let again = ada.wait_for(&twice, 30, |s| s == "building").await;
    assert_eq!(again["attempt"], 2);
    let last = restart(&mut third);
    let ada = ada.clone_with_base(&last);
    let failed = ada.finished(&twice, 30).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"], "interrupted by a platform restart");
    // The interrupted workspaces are on the project's build disk, which the next build mounts
    // and clears of them before it starts.
    let next = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    let workspace = last.workspace(&app.project_id, &next, 1);
    for _ in 0..100 {
        if ada.log_lines(&next).await.iter().any(|l| l["line"] == "started") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let builds = workspace.parent().expect("builds dir").to_owned();
    let left: Vec<String> = std::fs::read_dir(&builds)
        .unwrap_or_else(|e| panic!("{}: {e}", builds.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec![format!("{next}-attempt1")],
        "positive control (the running build's) and no interrupted workspace"
    );
    assert_eq!(ada.finished(&next, 60).await["status"], "ready");
}

#[tokio::test]
async fn a_secret_that_cannot_be_decrypted_fails_the_deployment_with_the_cause() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "keyed",
            "static",
            &[("index.html", "x")],
            static_build("mkdir dist && cp index.html dist/"),
        )
        .await;
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "API_KEY", "value": "sk_live_0123456789", "scope": "project", "projectId": app.project_id }),
    )
    .await;
    // Positive control: with the key it was sealed with, the secret opens and the build runs.
    let fine = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(fine["status"], "ready", "{fine}");

    // An operator restores the wrong master.key: a valid key, but not the one that sealed it.
    assert!(server.terminate().success());
    let key_path = server.data_dir().join("master.key");
    let other: Vec<u8> = std::fs::read(&key_path)
        .expect("key")
        .iter()
        .map(|b| b ^ 0x5a)
        .collect();
    std::fs::write(&key_path, other).expect("write key");
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    let ada = ada.clone_with_base(&restarted);
    let failed = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 30)
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("secret API_KEY") && error.contains("could not be decrypted"),
        "{error}"
    );
    assert!(!error.contains("sk_live"), "{error}");
    let lines = ada.log_lines(failed["id"].as_str().expect("id")).await;
    assert!(
        lines
            .iter()
            .any(|l| l["line"].as_str().is_some_and(|t| t.contains("could not be decrypted"))),
        "the log says why: {lines:?}"
    );
}
