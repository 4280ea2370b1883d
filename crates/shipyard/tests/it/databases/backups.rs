//! Backups (#35), proven by a restore: rows written → a backup `completed` with the rows its
//! proof compared; the download is a dump `pg_restore` reads; no row is in clear in any file
//! the server keeps outside the live clusters; a restore into a new database leaves the source
//! untouched; a restore over the same database backs it up first and brings a deleted row
//! back; a damaged file fails `verify` naming why; writes during a backup do not fail its proof.

use crate::support::databases::{RunningDatabase, psql};
use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

const MARKER: &str = "SHIPYARD-BACKUP-MARKER";

/// Every file under `root` (images skipped, as `files_under` does) holding `needle`.
fn files_holding(root: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    crate::support::files_under(root)
        .into_iter()
        .filter(|f| {
            // The live clusters' own data directories hold the rows, as they must.
            !f.components().any(|c| c.as_os_str() == "pgdata")
        })
        .filter(|f| std::fs::read(f).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes())))
        .collect()
}

#[tokio::test]
async fn a_backup_is_proven_downloaded_and_restored_without_destroying_anything() {
    let server = TestServer::start(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(
            &json!({ "name": "shop", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }),
        )
        .await;
    let base = format!("/tenants/{}/databases/{id}", ada.tenant_id);
    psql(
        &url,
        &format!(
            "CREATE TABLE items (id serial PRIMARY KEY, note text NOT NULL); \
             INSERT INTO items (note) SELECT '{MARKER}-' || g FROM generate_series(1, 500) g; \
             CREATE TABLE loose (v int); INSERT INTO loose SELECT g FROM generate_series(1, 10) g; \
             COMMENT ON TABLE items IS '{MARKER}'"
        ),
    )
    .expect("rows written");

    let backup = ada.backup_taken(&id).await;
    assert_eq!(backup["status"], "completed", "{backup}");
    assert_eq!(backup["kind"], "manual");
    assert!(backup["sizeBytes"].as_i64().is_some_and(|s| s > 0), "{backup}");
    assert!(backup["restoreVerifiedAt"].is_string(), "{backup}");
    assert_eq!(backup["verification"], json!({ "tables": 2, "rows": 510 }));
    let db = ada.database(&id).await;
    assert_eq!(db["lastBackup"]["status"], "completed", "{db}");
    let backup_id = backup["id"].as_str().expect("id").to_owned();
    let listed = ada.token.get(&format!("{base}/backups")).await.expect("list").body;
    assert_eq!(listed["items"][0]["id"], backup_id.as_str(), "{listed}");

    // The download is the plain custom-format dump, which the host's pg_restore reads.
    let response = ada
        .token
        .request(reqwest::Method::GET, &format!("{base}/backups/{backup_id}/download"))
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), 200);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .expect("header")
        .to_owned();
    assert!(disposition.starts_with("attachment; filename="), "{disposition}");
    let dump = response.bytes().await.expect("body");
    assert_eq!(dump.len() as i64, backup["sizeBytes"].as_i64().expect("size"));
    assert!(dump.starts_with(b"PGDMP"), "a custom-format dump");
    let local = tempfile::tempdir().expect("dir");
    let file = local.path().join("shop.dump");
    std::fs::write(&file, &dump).expect("write");
    let listed = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(&file)
        .output()
        .expect("pg_restore");
    let toc = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success() && toc.contains("TABLE DATA public items"),
        "{toc}"
    );

    // At rest the backup is sealed: nothing of the database in clear in any file the server
    // keeps (the live clusters' data directories aside). Positive control: the plain dump
    // holds the marker (its rows are compressed in it, the table's comment is not).
    assert!(
        dump.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
        "positive control"
    );
    let data = server.dir.path().join("data");
    assert_eq!(files_holding(&data, MARKER), Vec::<std::path::PathBuf>::new());

    // A viewer sees the backup but cannot download it.
    let viewer = ada.add_viewer(&server, "viewer@example.com").await;
    assert_eq!(
        viewer
            .token
            .get(&format!("{base}/backups/{backup_id}"))
            .await
            .expect("get")
            .status,
        200
    );
    assert_error(
        &viewer
            .token
            .get(&format!("{base}/backups/{backup_id}/download"))
            .await
            .expect("get"),
        403,
    );
    assert_error(
        &viewer
            .token
            .post(&format!("{base}/backups"), &json!({}))
            .await
            .expect("post"),
        403,
    );

    // Restore into a new database: the rows are there, the source is untouched.
    let restore = ada.restored(&id, &backup_id, &json!({ "name": "shop-copy" })).await;
    assert_eq!(restore["status"], "completed", "{restore}");
    let copy = restore["targetDatabaseId"].as_str().expect("target").to_owned();
    assert_ne!(copy, id);
    ada.database_running(&copy).await;
    let copy_url = ada.database_connection(&copy).await["url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert_eq!(psql(&copy_url, "SELECT count(*) FROM items"), Ok("500".to_owned()));
    assert_eq!(
        psql(&copy_url, "SELECT note FROM items WHERE id = 7"),
        Ok(format!("{MARKER}-7"))
    );
    assert_eq!(
        psql(&url, "SELECT count(*) FROM items"),
        Ok("500".to_owned()),
        "the source"
    );

    // Restore over the same database: a deleted row is back, and the state it replaced was
    // backed up first (so the restore can be undone).
    psql(&url, "DELETE FROM items WHERE id = 1").expect("delete");
    let same = ada.restored(&id, &backup_id, &json!({ "target": "same" })).await;
    assert_eq!(same["status"], "completed", "{same}");
    assert_eq!(psql(&url, "SELECT count(*) FROM items"), Ok("500".to_owned()));
    assert_eq!(
        psql(&url, "SELECT note FROM items WHERE id = 1"),
        Ok(format!("{MARKER}-1"))
    );
    let before = ada
        .token
        .get(&format!(
            "{base}/backups/{}",
            same["beforeBackupId"].as_str().expect("before")
        ))
        .await
        .expect("before")
        .body;
    assert_eq!(
        (
            before["kind"].as_str(),
            before["status"].as_str(),
            &before["verification"]
        ),
        (
            Some("beforeRestore"),
            Some("completed"),
            &json!({ "tables": 2, "rows": 509 })
        ),
        "{before}"
    );
}

#[tokio::test]
async fn a_damaged_backup_fails_its_proof_and_writes_during_a_backup_do_not() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(
            &json!({ "name": "busy", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }),
        )
        .await;
    let base = format!("/tenants/{}/databases/{id}", ada.tenant_id);
    psql(
        &url,
        "CREATE TABLE kept (id int PRIMARY KEY, v text); \
         INSERT INTO kept SELECT g, repeat(md5(g::text), 20) FROM generate_series(1, 20000) g; \
         CREATE TABLE churn (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())",
    )
    .expect("rows");

    // Writes all through the backup: the proof compares with the dump's snapshot, so they
    // never make it fail.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = std::thread::spawn({
        let (writing, url) = (writing.clone(), url.clone());
        move || {
            let mut batches = 0u32;
            while writing.load(Ordering::Relaxed) && batches < 2000 {
                let _ = psql(&url, "INSERT INTO churn (at) SELECT now() FROM generate_series(1, 50)");
                batches += 1;
            }
            batches
        }
    });
    let backup = ada.backup_taken(&id).await;
    writing.store(false, Ordering::Relaxed);
    let batches = writer.join().expect("writer");
    assert!(batches > 0, "positive control: the writer wrote");
    assert_eq!(backup["status"], "completed", "{backup}");
    assert!(
        backup["verification"]["rows"].as_i64().is_some_and(|r| r >= 20_000),
        "{backup}"
    );
    let backup_id = backup["id"].as_str().expect("id").to_owned();
    let verify = format!("{base}/backups/{backup_id}/verify");

    // Verify proves it again (positive control), then a byte flipped in its file fails it.
    let again = ada.token.post(&verify, &json!({})).await.expect("verify");
    assert_eq!(
        (again.status, again.body["status"].as_str()),
        (200, Some("completed")),
        "{}",
        again.body
    );
    assert_ne!(
        again.body["restoreVerifiedAt"], backup["restoreVerifiedAt"],
        "a new proof"
    );
    let file = crate::support::files_under(&server.dir.path().join("data"))
        .into_iter()
        .find(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy() == format!("{backup_id}.sybk"))
        })
        .expect("the backup's file");
    let mut bytes = std::fs::read(&file).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&file, &bytes).expect("write");
    let damaged = ada.token.post(&verify, &json!({})).await.expect("verify");
    assert_eq!(damaged.status, 200, "{}", damaged.body);
    let failed: &Value = &damaged.body;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().is_some_and(|e| e.contains("damaged")),
        "{failed}"
    );
    assert_eq!(ada.database(&id).await["lastBackup"]["status"], "failed");
    assert_error(
        &ada.token
            .post(&format!("{base}/backups/{backup_id}/restore"), &json!({}))
            .await
            .expect("restore"),
        409,
    );
    let deleted = ada
        .token
        .delete(&format!("{base}/backups/{backup_id}"))
        .await
        .expect("delete");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(!file.exists(), "its file went with it");
}

#[tokio::test]
async fn a_backup_cut_by_a_kill_is_taken_again_never_completed_with_a_cut_file() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(&json!({ "name": "big", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 512 } }))
        .await;
    // About 50 MB of rows that do not compress away.
    psql(
        &url,
        "CREATE TABLE big (id int PRIMARY KEY, v text); \
         INSERT INTO big SELECT g, (SELECT string_agg(md5(random()::text || g::text || k::text), '') \
         FROM generate_series(1, 12) k) FROM generate_series(1, 130000) g",
    )
    .expect("rows");
    let base = format!("/tenants/{}/databases/{id}", ada.tenant_id);
    let made = ada.post_ok(&format!("{base}/backups"), &json!({})).await;
    let path = format!("{base}/backups/{}", made["id"].as_str().expect("id"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let view = ada.token.get(&path).await.expect("backup").body;
        if view["status"] == "running" {
            break;
        }
        assert_eq!(view["status"], "pending", "{view}");
        assert!(std::time::Instant::now() < deadline, "never started: {view}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill();
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    drop(server);
    let restarted = TestServer::start_in(dir, &[]);
    let ada = ada.clone_with_base(&restarted);
    let ended = ada.ended(&path).await;
    match ended["status"].as_str() {
        Some("completed") => {
            assert_eq!(ended["verification"]["rows"], 130_000, "{ended}");
            let dump = ada
                .token
                .request(reqwest::Method::GET, &format!("{path}/download"))
                .send()
                .await
                .expect("download")
                .bytes()
                .await
                .expect("body");
            assert_eq!(dump.len() as i64, ended["sizeBytes"].as_i64().expect("size"), "{ended}");
        }
        _ => assert!(
            ended["error"].as_str().is_some_and(|e| e.contains("interrupted")),
            "{ended}"
        ),
    }
    let partial = crate::support::files_under(&restarted.dir.path().join("data"))
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "partial"))
        .collect::<Vec<_>>();
    assert!(partial.is_empty(), "no cut file left: {partial:?}");
}

#[tokio::test]
async fn a_proof_without_room_on_the_disk_fails_saying_so_and_the_server_serves_on() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(
            &json!({ "name": "tight", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }),
        )
        .await;
    psql(&url, "CREATE TABLE small (n int); INSERT INTO small VALUES (1)").expect("rows");
    let fits = ada.backup_taken(&id).await;
    assert_eq!(
        fits["status"], "completed",
        "positive control: a small database is proven: {fits}"
    );
    // A third of the disk in one table (80 MB of 256): its copy cannot sit beside it with the
    // server's own files and log, and the table itself fits whatever the log holds.
    psql(
        &url,
        "CREATE TABLE big AS SELECT repeat(md5(g::text), 30) AS x FROM generate_series(1, 80000) g",
    )
    .expect("rows");
    let tight = ada.backup_taken(&id).await;
    assert_eq!(tight["status"], "failed", "{tight}");
    assert!(
        tight["error"]
            .as_str()
            .is_some_and(|e| e.contains("raise limits.diskMb")),
        "{tight}"
    );
    assert_eq!(
        psql(&url, "SELECT count(*) FROM small"),
        Ok("1".to_owned()),
        "it serves on"
    );
}
