//! Who reaches a database (CONTRACT.md, "Who may connect to whom"): the builds and instances of
//! a project it is attached to, at the URL they are given, and nothing else — not another
//! project of the same workspace, not the attached one once detached; and a rollback past a
//! detach runs without it and says so.

use crate::support::apps::runtime_until;
use crate::support::databases::{RunningDatabase, psql};
use crate::support::deploy::Deployable;
use crate::support::edge::fetch;
use crate::support::fixtures::express_pg_files;
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};

/// A project of the notes app, deployed to ready; its build log as text.
async fn deployed(ada: &Tenant, app: &Deployable) -> (Value, String) {
    let done = ada
        .finished(ada.deploy(app).await["id"].as_str().expect("id"), 400)
        .await;
    let id = done["id"].as_str().expect("id");
    let log: Vec<String> = ada
        .all_log_lines(id, 5000)
        .await
        .iter()
        .filter_map(|l| l["line"].as_str().map(str::to_owned))
        .collect();
    let log = log.join("\n");
    assert_eq!(done["status"], "ready", "{done}\n{log}");
    (done, log)
}

#[tokio::test]
async fn only_an_attached_projects_sandboxes_reach_the_database_and_only_while_attached() {
    only_attached_sandboxes_reach(crate::support::KERNEL_NETWORK).await;
}

#[tokio::test]
async fn through_pasta_only_an_attached_projects_sandboxes_reach_the_database_and_only_while_attached() {
    only_attached_sandboxes_reach(crate::support::PASTA_NETWORK).await;
}

/// The database from an attached project's builds and instances, only while attached, on a
/// server started with `flags`.
async fn only_attached_sandboxes_reach(flags: &[&str]) {
    let server = TestServer::start(flags);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, port, url } = ada
        .running_database(&json!({ "name": "notes", "engine": "postgres" }))
        .await;
    ada.workspace_secret("PROBE_PORT", &port.to_string()).await;
    let files = express_pg_files();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let config =
        json!({ "build": { "buildCommand": "node probe.js" }, "runtime": { "startCommand": "node server.js" } });
    let attached = ada
        .deployable(&server, "attached", "node", &files, config.clone())
        .await;
    let stranger = ada.deployable(&server, "stranger", "node", &files, config).await;
    let path = format!("/tenants/{}/databases/{id}", ada.tenant_id);
    let made = ada
        .token
        .post(&format!("{path}/attach"), &json!({ "projectId": attached.project_id }))
        .await
        .expect("attach");
    assert_eq!(made.status, 200, "{}", made.body);

    let (first, log) = deployed(&ada, &attached).await;
    assert!(log.contains("Databases: DATABASE_URL (database notes)"), "{log}");
    assert!(log.contains("BUILD-PROBE open"), "the attached build reaches it: {log}");
    let password = ada.database_connection(&id).await["password"]
        .as_str()
        .expect("password")
        .to_owned();
    assert!(!log.contains(&password), "the build log never shows the password");
    let (_, stranger_log) = deployed(&ada, &stranger).await;
    assert!(
        stranger_log.contains("BUILD-PROBE closed"),
        "an unattached build does not: {stranger_log}"
    );

    assert_eq!(
        ada.runtime_view(&attached).await["attachments"],
        json!([{ "databaseId": id, "envVar": "DATABASE_URL", "inActiveRelease": true }])
    );
    let host = ada.live_host_of(&attached).await;
    let stranger_host = ada.live_host_of(&stranger).await;
    assert_eq!(fetch(&server, &host, "/write?t=hello", &[]).await.text(), "written");
    assert_eq!(fetch(&server, &host, "/read", &[]).await.text(), "hello");
    assert_eq!(
        psql(&url, "SELECT t FROM notes"),
        Ok("hello".to_owned()),
        "the very database"
    );
    assert_eq!(fetch(&server, &host, "/probe", &[]).await.text(), "open");
    let refused = fetch(&server, &stranger_host, "/probe", &[]).await.text();
    assert!(refused.starts_with("closed"), "an unattached instance: {refused}");
    let releases = ada
        .token
        .get(&format!(
            "/tenants/{}/projects/{}/releases",
            ada.tenant_id, attached.project_id
        ))
        .await
        .expect("releases")
        .body;
    assert_eq!(
        releases["items"][0]["attachments"],
        json!([{ "databaseId": id, "envVar": "DATABASE_URL" }]),
        "{releases}"
    );

    // Detached: the running instance loses its way at once.
    let undone = ada
        .token
        .post(&format!("{path}/detach"), &json!({ "projectId": attached.project_id }))
        .await
        .expect("detach");
    assert_eq!(undone.status, 200, "{}", undone.body);
    assert_eq!(ada.runtime_view(&attached).await["attachments"], json!([]));
    let cut = fetch(&server, &host, "/probe", &[]).await.text();
    assert!(cut.starts_with("closed"), "detached: {cut}");
    assert!(
        fetch(&server, &host, "/read", &[]).await.text().starts_with("db error"),
        "no query gets through"
    );
    // Nor after a restart: the instance it crashed into still has the URL, but no door opens.
    assert_eq!(fetch(&server, &host, "/exit", &[]).await.text(), "bye");
    runtime_until(&ada, &attached, "the instance restarted and serves", |v| {
        v["instances"][0]["restarts"].as_u64().is_some_and(|r| r >= 1) && v["instances"][0]["status"] == "healthy"
    })
    .await;
    let restarted = fetch(&server, &host, "/probe", &[]).await.text();
    assert!(
        restarted.starts_with("closed"),
        "restarted after the detach: {restarted}"
    );

    // A later release has no URL; a rollback to the first gets none back, and says so.
    deployed(&ada, &attached).await;
    let rolled = ada
        .token
        .post(
            &format!("/tenants/{}/rollback", ada.tenant_id),
            &json!({ "releaseId": first["releaseId"] }),
        )
        .await
        .expect("rollback");
    assert_eq!(rolled.status, 201, "{}", rolled.body);
    assert_eq!(rolled.body["attachments"], json!([]), "{}", rolled.body);
    assert_eq!(
        rolled.body["droppedAttachments"],
        json!([{ "databaseId": id, "envVar": "DATABASE_URL" }])
    );
    let read = fetch(&server, &host, "/read", &[]).await.text();
    assert!(read.starts_with("db error"), "the rollback has no URL: {read}");
    let says = "rolled back without DATABASE_URL";
    let logs = ada
        .runtime_log_text(rolled.body["id"].as_str().expect("id"), |t| t.contains(says))
        .await;
    assert!(logs.contains(says), "{logs}");
}
