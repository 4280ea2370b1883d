//! Starts, stops and deletes of one database sent at once: each waits for the one before, so
//! the outcome is always one the requests could have had one after another.

use crate::support::TestServer;
use crate::support::databases::{RunningDatabase, database_processes, pg_isready, postmasters};
use serde_json::json;

#[tokio::test]
async fn starts_stops_and_deletes_at_once_never_leave_two_servers_or_a_stray_one() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, port, .. } = ada
        .running_database(&json!({ "name": "raced", "engine": "postgres" }))
        .await;
    let path = format!("/tenants/{}/databases/{id}", ada.tenant_id);
    let (start, stop) = (format!("{path}/start"), format!("{path}/stop"));
    let empty = json!({});

    let asked = futures_util::future::join_all(
        [&stop, &start, &start, &stop, &start, &start]
            .into_iter()
            .map(|route| ada.token.post(route, &empty)),
    )
    .await;
    for answer in &asked {
        let answer = answer.as_ref().expect("request");
        assert!(
            [200, 202, 409].contains(&answer.status),
            "a refusal is a conflict, never an error: {} {}",
            answer.status,
            answer.body
        );
    }
    let view = ada.database_settled(&id, 60).await;
    match view["status"].as_str() {
        Some("running") => {
            ada.database_running(&id).await;
            assert_eq!(postmasters(&id).len(), 1, "one server: {:?}", database_processes(&id));
        }
        Some("stopped") => assert!(database_processes(&id).is_empty(), "{:?}", database_processes(&id)),
        other => panic!("a settled database is running or stopped, not {other:?}: {view}"),
    }

    let (started, deleted) = tokio::join!(ada.token.post(&start, &empty), ada.token.delete(&path));
    let (started, deleted) = (started.expect("start"), deleted.expect("delete"));
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(
        [202, 404, 409].contains(&started.status),
        "{} {}",
        started.status,
        started.body
    );
    assert_eq!(ada.token.get(&path).await.expect("request").status, 404);
    // A start that won the race launched a server; the delete behind it stopped it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !database_processes(&id).is_empty() {
        assert!(std::time::Instant::now() < deadline, "{:?}", database_processes(&id));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(!pg_isready(port), "port {port} closed");
}
