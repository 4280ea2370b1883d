//! A database outlives its server: after a `kill -9` of `serve` the next start serves its rows
//! again with exactly one postmaster, and a SIGTERM of `serve` leaves no postgres behind.

use crate::support::TestServer;
use crate::support::databases::{RunningDatabase, database_processes, postmasters, psql};
use serde_json::json;

#[tokio::test]
async fn a_killed_server_brings_its_database_back_once_and_a_stop_leaves_no_postgres() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(&json!({ "name": "survivor", "engine": "postgres" }))
        .await;
    assert_eq!(
        psql(
            &url,
            "CREATE TABLE rows (n int); INSERT INTO rows SELECT generate_series(1, 100); SELECT count(*) FROM rows"
        ),
        Ok("100".to_owned())
    );
    assert_eq!(postmasters(&id).len(), 1, "{:?}", database_processes(&id));

    server.kill();
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    drop(server);
    let mut restarted = TestServer::start_in(dir, &[]);
    let ada = ada.clone_with_base(&restarted);
    ada.database_running(&id).await;
    assert_eq!(
        psql(&url, "SELECT count(*) FROM rows"),
        Ok("100".to_owned()),
        "its rows are back"
    );
    assert_eq!(
        postmasters(&id).len(),
        1,
        "exactly one postmaster: {:?}",
        database_processes(&id)
    );

    let status = restarted.terminate();
    assert!(status.success(), "{status}");
    assert!(database_processes(&id).is_empty(), "{:?}", database_processes(&id));
}

#[tokio::test]
async fn a_data_directory_deep_in_a_long_path_still_runs_databases() {
    // The socket path of a database under it would pass the kernel's 107 bytes.
    let deep = tempfile::Builder::new()
        .prefix(&format!("{}-", "a-data-directory-deep-in-someones-home".repeat(2)))
        .tempdir()
        .expect("tempdir");
    assert!(
        deep.path().as_os_str().len() > 80,
        "positive control: {}",
        deep.path().display()
    );
    let server = TestServer::start_in(deep, &[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(
            &json!({ "name": "deep", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }),
        )
        .await;
    assert_eq!(psql(&url, "SELECT 1"), Ok("1".to_owned()));
    let view = ada.database(&id).await;
    assert!(
        view["sizeBytes"].as_i64().is_some_and(|s| s > 0),
        "the platform's own connection: {view}"
    );
}
