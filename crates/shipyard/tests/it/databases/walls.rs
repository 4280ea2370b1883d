//! What the tenant's role may not do: run programs, read the server's files, change the
//! server's settings, load extensions that reach out, or make roles and databases.

use crate::support::TestServer;
use crate::support::databases::{RunningDatabase, psql};
use serde_json::json;

#[tokio::test]
async fn the_tenant_role_cannot_reach_past_its_database() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { port, url, .. } = ada
        .running_database(&json!({ "name": "walled", "engine": "postgres" }))
        .await;
    let url = url.as_str();
    // Positive control: the role owns its database.
    assert_eq!(
        psql(
            url,
            "CREATE TABLE mine (s text); INSERT INTO mine VALUES ('ok'); SELECT s FROM mine"
        ),
        Ok("ok".to_owned())
    );
    let refusals = [
        (
            "COPY TO PROGRAM",
            "COPY (SELECT 1) TO PROGRAM 'id'",
            "pg_execute_server_program",
        ),
        (
            "COPY FROM PROGRAM",
            "COPY mine FROM PROGRAM 'cat /etc/passwd'",
            "pg_execute_server_program",
        ),
        (
            "pg_read_file",
            "SELECT pg_read_file('/etc/passwd')",
            "permission denied",
        ),
        (
            "pg_read_binary_file",
            "SELECT pg_read_binary_file('postgresql.conf')",
            "permission denied",
        ),
        ("pg_ls_dir", "SELECT pg_ls_dir('.')", "permission denied"),
        (
            "COPY FROM a server file",
            "COPY mine FROM '/etc/passwd'",
            "pg_read_server_files",
        ),
        (
            "lo_import of a server file",
            "SELECT lo_import('/etc/passwd')",
            "permission denied",
        ),
        ("ALTER SYSTEM", "ALTER SYSTEM SET work_mem = '1MB'", "permission denied"),
        ("dblink", "CREATE EXTENSION dblink", "permission denied"),
        ("postgres_fdw", "CREATE EXTENSION postgres_fdw", "permission denied"),
        ("file_fdw", "CREATE EXTENSION file_fdw", "permission denied"),
        ("adminpack", "CREATE EXTENSION adminpack", "permission denied"),
        ("CREATE ROLE", "CREATE ROLE intruder", "permission denied"),
        (
            "a superuser role",
            "CREATE ROLE intruder SUPERUSER",
            "must be superuser",
        ),
        ("CREATE DATABASE", "CREATE DATABASE other", "permission denied"),
        (
            "another database",
            "SELECT 1 FROM pg_database WHERE has_database_privilege(datname, 'CONNECT') AND datname = 'postgres'",
            "",
        ),
    ];
    for (what, sql, says) in refusals {
        match psql(url, sql) {
            Err(error) => assert!(error.contains(says), "{what}: {error}"),
            Ok(out) => assert!(says.is_empty() && out.is_empty(), "{what} was allowed: {out:?}"),
        }
    }
    // Nor may it log in to the platform's own database or as the platform's superuser.
    let other_db = url
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/postgres"))
        .expect("url");
    let no_entry = psql(&other_db, "SELECT 1").expect_err("only its own database");
    assert!(
        no_entry.contains("no pg_hba.conf entry") || no_entry.contains("rejects"),
        "{no_entry}"
    );
    let superuser = psql(
        &format!("postgres://shipyard:guess@127.0.0.1:{port}/postgres"),
        "SELECT 1",
    )
    .expect_err("the superuser never logs in over TCP");
    assert!(superuser.contains("rejects connection"), "{superuser}");
}

/// Code that runs as the database's uid (a server bug away from any tenant) owns its data
/// disk: links it plants there must never lead the platform, as root, to write elsewhere.
#[tokio::test]
async fn links_planted_on_the_data_disk_are_never_written_through() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(&json!({ "name": "planted", "engine": "postgres" }))
        .await;
    let path = format!("/tenants/{}/databases/{id}", ada.tenant_id);

    // As the uid could, while its disk is mounted: every file the platform ever wrote on the
    // disk is a link now.
    let victims = tempfile::tempdir().expect("tempdir");
    let mount = server.dir.path().join("data/databases").join(&id);
    let mut planted = Vec::new();
    for name in [
        "pgdata/postgresql.conf",
        "pgdata/pg_hba.conf",
        ".superuser-password",
        "socket",
    ] {
        let victim = victims.path().join(name.replace('/', "-"));
        std::fs::write(&victim, "the host's own file").expect("victim");
        let at = mount.join(name);
        let _ = std::fs::remove_dir_all(&at);
        let _ = std::fs::remove_file(&at);
        std::os::unix::fs::symlink(&victim, &at).expect("plant a link");
        planted.push(victim);
    }
    let stopped = ada.token.post(&format!("{path}/stop"), &json!({})).await.expect("stop");
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    let started = ada
        .token
        .post(&format!("{path}/start"), &json!({}))
        .await
        .expect("start");
    assert_eq!(started.status, 202, "{}", started.body);
    ada.database_running(&id).await;
    assert_eq!(
        psql(&url, "SELECT 1"),
        Ok("1".to_owned()),
        "positive control: it started and serves"
    );
    for victim in planted {
        let meta = std::fs::metadata(&victim).expect("victim");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("read"),
            "the host's own file",
            "{}",
            victim.display()
        );
        assert_eq!(
            std::os::unix::fs::MetadataExt::uid(&meta),
            0,
            "{} changed hands",
            victim.display()
        );
    }
}
