//! The pre-deploy command: migrations run once per deploy in the new release's sandbox, with
//! its databases, before any instance of it starts; a failing one fails the deployment with
//! its exit code and the release it would have replaced keeps serving; a cancel stops it.
//! `shipyard run` runs one the same way, its exit code the CLI's.

use crate::support::cli::logged_in;
use crate::support::databases::{RunningDatabase, psql};
use crate::support::edge::fetch;
use crate::support::fixtures::express_pg_files;
use crate::support::{TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn migrations_run_before_the_release_and_a_failing_one_keeps_the_old_release() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, .. } = ada
        .running_database(&json!({ "name": "app-db", "engine": "postgres" }))
        .await;
    let files = express_pg_files();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let config = json!({ "runtime": { "startCommand": "node server.js", "preDeployCommand": "node migrate.js" } });
    let app = ada.deployable(&server, "migrating", "node", &files, config).await;
    let attach = ada
        .token
        .post(
            &format!("/tenants/{}/databases/{id}/attach", ada.tenant_id),
            &json!({ "projectId": app.project_id }),
        )
        .await
        .expect("attach");
    assert_eq!(attach.status, 200, "{}", attach.body);

    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 400)
        .await;
    let id_of = |v: &serde_json::Value| v["id"].as_str().expect("id").to_owned();
    let log = ada.log_lines(&id_of(&done)).await;
    let text: Vec<&str> = log.iter().filter_map(|l| l["line"].as_str()).collect();
    let text = text.join("\n");
    assert_eq!(done["status"], "ready", "{done}\n{text}");
    let (said, ran, finished) = (
        text.find("Pre-deploy: node migrate.js"),
        text.find("migrated"),
        text.find("Pre-deploy: done"),
    );
    assert!(
        said < ran && ran < finished && said.is_some(),
        "its own step, in order:\n{text}"
    );
    let host = ada.live_host_of(&app).await;
    assert_eq!(
        fetch(&server, &host, "/migrated", &[]).await.text(),
        "1",
        "the table it made"
    );

    // `shipyard run`: a migration in the active release's sandbox, its output as it comes and
    // its exit code the CLI's.
    let shell = logged_in(&server, &ada).await;
    let migrated = shell
        .run(&["run", "--project", "migrating", "--", "node", "migrate.js"])
        .await;
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    assert_eq!(migrated.stdout.trim(), "migrated", "{}", migrated.stderr);
    assert_eq!(
        fetch(&server, &host, "/migrated", &[]).await.text(),
        "2",
        "it ran against the database"
    );

    // A restore over the database (#35): the app reads the restored row, and its runtime log
    // says what happened to its database.
    assert_eq!(fetch(&server, &host, "/write?t=kept", &[]).await.text(), "written");
    let backup = ada.backup_taken(&id).await;
    assert_eq!(backup["status"], "completed", "{backup}");
    let url = ada.database_connection(&id).await["url"]
        .as_str()
        .expect("url")
        .to_owned();
    psql(&url, "DELETE FROM notes").expect("delete");
    assert_eq!(
        fetch(&server, &host, "/read", &[]).await.text(),
        "",
        "positive control: gone"
    );
    let restore = ada
        .restored(&id, backup["id"].as_str().expect("id"), &json!({ "target": "same" }))
        .await;
    assert_eq!(restore["status"], "completed", "{restore}");
    assert_eq!(fetch(&server, &host, "/read", &[]).await.text(), "kept");
    let release = done["releaseId"].as_str().expect("release");
    let said = ada
        .runtime_log_text(release, |t| t.contains("was restored from backup"))
        .await;
    assert!(said.contains(backup["id"].as_str().expect("id")), "{said}");
    let failing_run = shell
        .run(&[
            "run",
            "--project",
            "migrating",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 7",
        ])
        .await;
    assert_eq!(failing_run.code, 7, "{} {}", failing_run.stdout, failing_run.stderr);
    assert_eq!(failing_run.stdout.trim(), "out");
    assert!(failing_run.stderr.contains("err"), "{}", failing_run.stderr);

    // A failing migration: the deployment fails with the command and its code; v1 serves on.
    let runtime_config = format!("/tenants/{}/projects/{}/runtime-config", ada.tenant_id, app.project_id);
    let failing = "echo failing migration >&2; exit 3";
    let patched = ada
        .token
        .patch(&runtime_config, &json!({ "preDeployCommand": failing }))
        .await
        .expect("patch");
    assert_eq!(patched.status, 200, "{}", patched.body);
    let failed = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 400)
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("pre-deploy command `{failing}` exited with code 3")),
        "{error}"
    );
    let log = ada.log_lines(&id_of(&failed)).await;
    assert!(
        log.iter()
            .any(|l| l["line"] == "failing migration" && l["stream"] == "stderr"),
        "its output is in the build log: {log:?}"
    );
    assert_eq!(
        fetch(&server, &host, "/migrated", &[]).await.text(),
        "2",
        "v1 still serves"
    );
    assert_eq!(
        ada.token
            .get(&format!(
                "/tenants/{}/projects/{}/releases",
                ada.tenant_id, app.project_id
            ))
            .await
            .expect("releases")
            .body["total"],
        1,
        "no release of the failed deployment is kept"
    );

    // A cancel reaches a pre-deploy command that would run for ten minutes.
    let patched = ada
        .token
        .patch(&runtime_config, &json!({ "preDeployCommand": "sleep 600" }))
        .await
        .expect("patch");
    assert_eq!(patched.status, 200, "{}", patched.body);
    let slow = id_of(&ada.deploy(&app).await);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    while !ada
        .log_lines(&slow)
        .await
        .iter()
        .any(|l| l["line"] == "Pre-deploy: sleep 600")
    {
        assert!(std::time::Instant::now() < deadline, "the pre-deploy never started");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let canceled = ada
        .token
        .post(
            &format!("/tenants/{}/deployments/{slow}/cancel", ada.tenant_id),
            &json!({}),
        )
        .await
        .expect("cancel");
    assert!(canceled.status < 300, "{}", canceled.body);
    let ended = ada
        .wait_for(&slow, 60, |s| s == "canceled" || s == "failed" || s == "ready")
        .await;
    assert_eq!(ended["status"], "canceled", "{ended}");
    assert_eq!(
        fetch(&server, &host, "/migrated", &[]).await.text(),
        "2",
        "v1 still serves"
    );

    // A rollback returns to v1 without running it again, and says so.
    let patched = ada
        .token
        .patch(&runtime_config, &json!({ "preDeployCommand": "node migrate.js" }))
        .await
        .expect("patch");
    assert_eq!(patched.status, 200, "{}", patched.body);
    let second = ada.finished(&id_of(&ada.deploy(&app).await), 400).await;
    assert_eq!(second["status"], "ready", "{second}");
    assert_eq!(fetch(&server, &host, "/migrated", &[]).await.text(), "3");
    let rolled = ada
        .token
        .post(
            &format!("/tenants/{}/rollback", ada.tenant_id),
            &json!({ "releaseId": done["releaseId"] }),
        )
        .await
        .expect("rollback");
    assert_eq!(rolled.status, 201, "{}", rolled.body);
    assert!(
        rolled.body["preDeploy"]
            .as_str()
            .is_some_and(|p| p.contains("was not run")),
        "{}",
        rolled.body
    );
    assert_eq!(
        fetch(&server, &host, "/migrated", &[]).await.text(),
        "3",
        "not run again"
    );

    // A paused project runs no one-off command either (positive control: the runs above).
    let project_path = format!("/tenants/{}/projects/{}", ada.tenant_id, app.project_id);
    let paused = ada
        .token
        .patch(&project_path, &json!({ "status": "paused" }))
        .await
        .expect("pause");
    assert_eq!(paused.status, 200, "{}", paused.body);
    let refused_run = ada
        .token
        .post(
            &format!("{project_path}/environments/{}/runs", app.environment_id),
            &json!({ "command": "true" }),
        )
        .await
        .expect("run");
    assert_error(&refused_run, 409);
    assert!(
        refused_run.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("paused")),
        "{}",
        refused_run.body
    );

    // A static project runs no command.
    let site = ada
        .deployable(
            &server,
            "site",
            "static",
            &[("index.html", "hi")],
            serde_json::Value::Null,
        )
        .await;
    let refused = ada
        .token
        .patch(
            &format!("/tenants/{}/projects/{}/runtime-config", ada.tenant_id, site.project_id),
            &json!({ "preDeployCommand": "true" }),
        )
        .await
        .expect("patch");
    assert_error(&refused, 422);
}
