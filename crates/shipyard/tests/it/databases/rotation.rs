//! Password rotation (#35): the new password works at once, the old one until its grace period
//! ends and then not at all; what the new login makes is the owner's as before; backups and
//! restores go on under the new login; a second rotation takes the first login back.

use crate::support::databases::{RunningDatabase, psql};
use crate::support::{TestServer, assert_error};
use serde_json::json;
use std::time::{Duration, Instant};

/// Waits (at most 30 s) until `url` is refused for its password.
async fn refused_soon(url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match psql(url, "SELECT 1") {
            Err(e) if e.contains("password authentication failed") => return e,
            other => assert!(Instant::now() < deadline, "still accepted: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_rotated_password_works_at_once_and_the_old_one_until_its_grace_ends() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url: first, .. } = ada
        .running_database(
            &json!({ "name": "keys", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }),
        )
        .await;
    psql(&first, "CREATE TABLE t (n int); INSERT INTO t VALUES (1)").expect("table");
    let path = format!("/tenants/{}/databases/{id}/rotate-password", ada.tenant_id);
    assert_error(
        &ada.token
            .post(&path, &json!({ "graceSeconds": 10_000_000 }))
            .await
            .expect("rotate"),
        400,
    );

    let rotated = ada
        .token
        .post(&path, &json!({ "graceSeconds": 4 }))
        .await
        .expect("rotate");
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let owner = ada.database(&id).await["username"].as_str().expect("user").to_owned();
    assert!(owner.ends_with("_owner2"), "the second login: {}", rotated.body);
    assert!(
        rotated.body["takesEffect"]
            .as_str()
            .is_some_and(|t| t.contains("next deployment")),
        "{}",
        rotated.body
    );
    let second = ada.database_connection(&id).await["url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert_ne!(second, first);
    assert_eq!(
        psql(
            &second,
            "INSERT INTO t VALUES (2); CREATE TABLE u (n int); SELECT count(*) FROM t"
        ),
        Ok("2".to_owned()),
        "the new login works at once, on the owner's tables"
    );
    assert_eq!(
        psql(&second, "SELECT tableowner FROM pg_tables WHERE tablename = 'u'"),
        Ok(owner.trim_end_matches('2').to_owned()),
        "what it makes is the owner's"
    );
    assert_eq!(
        psql(&first, "SELECT count(*) FROM u"),
        Ok("0".to_owned()),
        "the old one works in its grace"
    );

    // Backups and restores run as the login of the moment.
    let backup = ada.backup_taken(&id).await;
    assert_eq!(backup["status"], "completed", "{backup}");
    let restore = ada
        .restored(&id, backup["id"].as_str().expect("id"), &json!({ "target": "same" }))
        .await;
    assert_eq!(restore["status"], "completed", "{restore}");

    let said = refused_soon(&first).await;
    assert!(said.contains("password authentication failed"), "{said}");
    assert_eq!(psql(&second, "SELECT count(*) FROM t"), Ok("2".to_owned()));

    // The next rotation takes the first login back, with a new password; no grace: at once.
    let again = ada
        .token
        .post(&path, &json!({ "graceSeconds": 0 }))
        .await
        .expect("rotate");
    assert_eq!(again.status, 200, "{}", again.body);
    let third = ada.database_connection(&id).await["url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert_ne!(third, first, "a new password");
    assert_eq!(psql(&third, "SELECT count(*) FROM t"), Ok("2".to_owned()));
    refused_soon(&second).await;
}
