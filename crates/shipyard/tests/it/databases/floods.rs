//! A tenant's SQL that floods the server's output or eats past the memory limit: the platform
//! holds none of it, only the session dies, and the object says why.

use crate::support::TestServer;
use crate::support::databases::{RunningDatabase, psql};
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test]
async fn huge_warnings_cost_the_platform_nothing_and_a_greedy_session_is_killed_alone() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(&json!({ "name": "greedy", "engine": "postgres", "limits": { "memoryMb": 192 } }))
        .await;
    assert_eq!(
        psql(
            &url,
            "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7); SELECT n FROM kept"
        ),
        Ok("7".to_owned()),
        "positive control"
    );

    let before = server.peak_rss_kib();
    // Each warning is one 16 MiB line on the server's stderr, which `serve` reads.
    let flood = "DO $$ BEGIN FOR i IN 1..4 LOOP RAISE WARNING '%', repeat('w', 16 * 1024 * 1024); END LOOP; END $$";
    assert_eq!(
        psql(&format!("{url}?options=-c%20client_min_messages%3Derror"), flood),
        Ok(String::new())
    );
    let grown = server.peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 12 * 1024,
        "serve grew by {grown} KiB reading 64 MiB of warnings"
    );

    let greedy = psql(
        &url,
        "SELECT length(string_agg(repeat('x', 1024 * 1024), '')) FROM generate_series(1, 600)",
    );
    assert!(greedy.is_err(), "a 600 MiB value in 192 MiB: {greedy:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let view = loop {
        let view = ada.database(&id).await;
        if view["lastExitReason"]
            .as_str()
            .is_some_and(|r| r.contains("out of memory"))
        {
            break view;
        }
        assert!(Instant::now() < deadline, "no reason given: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        view["lastExitReason"], "a session was killed: out of memory at 192 MiB",
        "{view}"
    );
    assert_eq!(view["status"], "running", "{view}");
    ada.database_running(&id).await;
    assert_eq!(
        psql(&url, "SELECT n FROM kept"),
        Ok("7".to_owned()),
        "its data is intact"
    );
}
