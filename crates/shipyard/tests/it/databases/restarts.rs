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
