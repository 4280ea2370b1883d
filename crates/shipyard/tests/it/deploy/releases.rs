//! Release history and retention: versions per environment, secret versions recorded, and
//! releases past the retention limit losing their files (and saying so).

use crate::support::{TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn releases_are_listed_and_old_artifacts_pruned() {
    let server = TestServer::start(&["--release-retention", "2"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "site",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "outputDirectory": "." } }),
        )
        .await;
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "GREETING", "value": "hello there", "scope": "workspace" }),
    )
    .await;
    let mut releases = Vec::new();
    for _ in 0..4 {
        let done = ada
            .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
            .await;
        assert_eq!(done["status"], "ready", "{done}");
        releases.push(done["releaseId"].as_str().expect("release").to_owned());
    }
    let path = format!("/tenants/{}/projects/{}/releases", ada.tenant_id, app.project_id);
    let list = ada
        .token
        .get(&format!("{path}?environmentId={}", app.environment_id))
        .await
        .expect("request")
        .ok()
        .expect("list");
    assert_eq!(list["total"], 4);
    let items = list["items"].as_array().expect("items");
    let versions: Vec<_> = items
        .iter()
        .map(|r| r["version"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(versions, ["v4", "v3", "v2", "v1"], "newest first");
    let statuses: Vec<_> = items
        .iter()
        .map(|r| r["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(statuses, ["active", "inactive", "inactive", "inactive"]);
    let available: Vec<_> = items
        .iter()
        .map(|r| r["artifactAvailable"].as_bool().unwrap_or(true))
        .collect();
    assert_eq!(
        available,
        [true, true, false, false],
        "only the newest two keep their files"
    );
    for (id, kept) in releases.iter().zip([false, false, true, true]) {
        assert_eq!(server.artifact(id).exists(), kept, "artifact of {id}");
    }
    assert_eq!(
        items[0]["secretVersions"],
        json!([{ "secretId": items[0]["secretVersions"][0]["secretId"], "name": "GREETING", "version": 1 }])
    );
    assert!(items[0]["deploymentId"].as_str().is_some_and(|d| d.starts_with("dep_")));
    assert_eq!(items[0]["commitSha"].as_str().map(str::len), Some(40));

    let deployment = ada
        .token
        .get(&format!("/tenants/{}/deployments/DEP-0004", ada.tenant_id))
        .await
        .expect("request")
        .body;
    assert_eq!(deployment["release"], json!({ "id": releases[3], "version": "v4" }));
    assert_error(
        &ada.token
            .get(&format!("{path}?environmentId=nope"))
            .await
            .expect("request"),
        400,
    );
}

#[tokio::test]
async fn deleting_a_project_removes_its_artifacts_logs_and_cache() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "gone",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "buildCommand": "mkdir -p dist && echo ok > dist/index.html", "outputDirectory": "dist" } }),
        )
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    let artifact = server.artifact(done["releaseId"].as_str().expect("release"));
    let cache = server.build_disk(&app.project_id).join("cache");
    assert!(
        artifact.exists() && cache.exists(),
        "positive control: the deploy left files"
    );
    assert!(!ada.log_lines(done["id"].as_str().expect("id")).await.is_empty());

    ada.delete_project(&app).await;
    assert!(!artifact.exists(), "artifact removed");
    assert!(!cache.exists(), "package cache removed");
    let image = server.build_disk_image(&ada.tenant_id, &app.project_id);
    assert!(!image.exists(), "build disk removed");
    let logs = ada
        .token
        .get(&format!(
            "/tenants/{}/deployments/{}/logs",
            ada.tenant_id,
            done["id"].as_str().expect("id")
        ))
        .await;
    assert_error(&logs.expect("request"), 404);
}

#[tokio::test]
async fn deleting_an_environment_removes_its_artifacts_and_logs_and_a_restart_sweeps_unowned_ones() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "envsite",
            "static",
            &[("index.html", "x")],
            crate::support::deploy::static_build("mkdir dist && cp index.html dist/"),
        )
        .await;
    let staging_id = ada.add_environment(&app, "staging").await;
    let mut done = Vec::new();
    for env in [app.environment_id.as_str(), staging_id.as_str()] {
        let made = ada.deploy_env(&app, env).await;
        let view = ada.finished(made["id"].as_str().expect("id"), 60).await;
        assert_eq!(view["status"], "ready", "{view}");
        done.push(view);
    }
    let artifact = |view: &serde_json::Value| server.artifact(view["releaseId"].as_str().expect("release"));
    let (kept, gone) = (artifact(&done[0]), artifact(&done[1]));
    assert!(kept.is_dir() && gone.is_dir(), "both releases have files");
    let deleted = ada
        .token
        .delete(&format!(
            "/tenants/{}/projects/{}/environments/{staging_id}",
            ada.tenant_id, app.project_id
        ))
        .await
        .expect("request");
    assert_eq!(deleted.status, 204);
    assert!(!gone.exists(), "the deleted environment's artifact is removed");
    assert!(kept.is_dir(), "positive control: production's artifact stays");
    let logs = shipyard_store::logs::LogStore::open(&server.layout().logs_database())
        .await
        .expect("open logs");
    let stream = |view: &serde_json::Value| format!("build:{}", view["id"].as_str().expect("id"));
    assert!(
        logs.read(&stream(&done[1]), 0, 10).await.expect("read").is_empty(),
        "its build log is removed"
    );
    assert!(
        !logs.read(&stream(&done[0]), 0, 10).await.expect("read").is_empty(),
        "production's log stays"
    );

    // A crash between storing files and committing the release row leaves a directory no
    // release owns; the next start removes it and nothing else. Versions before workspaces'
    // disks kept releases' files in `<data>/artifacts`: they move onto the workspace's disk.
    let orphan = server
        .workspace_disk(&ada.tenant_id)
        .join("artifacts/rel_00000000000000000000000000000000");
    let (old, kept_id) = (server.data_dir().join("artifacts"), kept.file_name().expect("name"));
    let old_orphan = old.join("rel_11111111111111111111111111111111");
    for dir in [&orphan, &old_orphan] {
        std::fs::create_dir_all(dir.join("dist")).expect("orphan");
        std::fs::write(dir.join("dist/index.html"), "orphan").expect("write");
    }
    let moved = std::process::Command::new("cp")
        .arg("-a")
        .arg(&kept)
        .arg(old.join(kept_id))
        .status()
        .expect("cp");
    assert!(moved.success());
    std::fs::remove_dir_all(&kept).expect("remove");
    assert!(server.terminate().success());
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let restarted = TestServer::start_in(dir, &[]);
    assert!(!orphan.exists(), "the unowned artifact is swept at start");
    assert!(!old.exists(), "the old store is emptied: {}", old.display());
    assert!(
        kept.join("dist/index.html").is_file(),
        "production's files are back on the workspace's disk"
    );
    assert_eq!(restarted.artifact(kept_id.to_str().expect("utf-8")), kept);
}
