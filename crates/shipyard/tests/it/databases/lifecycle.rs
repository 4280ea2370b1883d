//! A database from creation to deletion: it runs as a uid of its own in a cgroup with its
//! memory limit, on a disk of its size, and keeps its data across a stop and a start.

use crate::support::TestServer;
use crate::support::databases::{database_processes, pg_isready, psql};
use serde_json::json;

/// The uid of the host's `postgres` user, if it has one.
fn postgres_uid() -> Option<u32> {
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("postgres:"))
        .and_then(|rest| rest.split(':').nth(1))
        .and_then(|uid| uid.parse().ok())
}

/// The memory limit of the cgroup (v1 or v2) process `pid` is in.
fn memory_limit_of(pid: u32) -> u64 {
    let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    let (v1, v2) = groups.lines().fold((None, None), |(v1, v2), l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if controllers.split(',').any(|c| c == "memory") {
            (Some(path.to_owned()), v2)
        } else if controllers.is_empty() {
            (v1, Some(path.to_owned()))
        } else {
            (v1, v2)
        }
    });
    let file = match (v1, v2) {
        (Some(path), _) => format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"),
        (None, Some(path)) => format!("/sys/fs/cgroup{path}/memory.max"),
        (None, None) => panic!("process {pid} is in no memory cgroup: {groups}"),
    };
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .trim()
        .parse()
        .expect("a limit in bytes")
}

#[tokio::test]
async fn a_database_runs_walled_on_its_own_disk_and_keeps_its_data_until_deleted() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let made = ada
        .create_database(
            &json!({ "name": "Orders", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 96 } }),
        )
        .await;
    assert_eq!(made["status"], "provisioning", "{made}");
    assert_eq!(
        (made["engine"].as_str(), made["host"].as_str()),
        (Some("postgres"), Some("127.0.0.1"))
    );
    assert!(
        made.get("password").is_none(),
        "no password outside /connection: {made}"
    );
    let id = made["id"].as_str().expect("id").to_owned();
    let view = ada.database_running(&id).await;
    assert!(view["sizeBytes"].as_i64().is_some_and(|s| s > 0), "{view}");
    let port = view["port"].as_u64().expect("port");

    // The tenant's role works (positive control for every refusal below) with its password,
    // and with no other.
    let conn = ada.database_connection(&id).await;
    let url = conn["url"].as_str().expect("url");
    assert_eq!(
        psql(
            url,
            "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7); SELECT sum(n) FROM kept"
        ),
        Ok("7".to_owned())
    );
    let wrong = url.replace(conn["password"].as_str().expect("password"), "not-the-password");
    let refused = psql(&wrong, "SELECT 1").expect_err("a wrong password is refused");
    assert!(refused.contains("password authentication failed"), "{refused}");

    // Its processes run as a uid of the server's sandbox range that is neither root's nor
    // the host's postgres user's, in a memory cgroup of the configured size.
    let processes = database_processes(&id);
    assert!(processes.len() >= 2, "a postmaster and its helpers: {processes:?}");
    for (pid, uid, _) in &processes {
        assert!(server.uid_range().contains(uid), "process {pid} runs as {uid}");
        assert_ne!(Some(*uid), postgres_uid());
        let limit = memory_limit_of(*pid);
        // A session that was ending as it was listed shows the root group on its way out
        // (seen once): only a process that is still there a moment later is judged.
        if limit != 128 * 1024 * 1024 {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
        }
        let seen = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
        assert_eq!(
            memory_limit_of(*pid),
            128 * 1024 * 1024,
            "process {pid}: {} {}",
            seen("cgroup"),
            seen("cmdline").replace('\0', " ")
        );
    }

    // Its disk is its size: PostgreSQL runs out of space, the host does not.
    let full = psql(
        url,
        "CREATE TABLE big AS SELECT repeat(md5(g::text), 40) AS x FROM generate_series(1, 300000) g",
    )
    .expect_err("96 MB cannot hold 380 MB");
    assert!(full.contains("No space left on device"), "{full}");
    assert_eq!(
        psql(url, "SELECT sum(n) FROM kept"),
        Ok("7".to_owned()),
        "it still serves"
    );

    // The password is in no response but `/connection`, in no log and in no file in clear.
    let password = conn["password"].as_str().expect("password");
    assert!(!ada.database(&id).await.to_string().contains(password));
    assert!(
        !(server.stderr() + &server.stdout()).contains(password),
        "the server's log"
    );
    for file in crate::support::files_under(&server.dir.path().join("data")) {
        if let Ok(bytes) = std::fs::read(&file) {
            assert!(
                !bytes.windows(password.len()).any(|w| w == password.as_bytes()),
                "the password in clear in {}",
                file.display()
            );
        }
    }

    // Stop: port closed, no process; start: the data is back.
    let path = format!("/tenants/{}/databases/{id}", ada.tenant_id);
    let stopped = ada.token.post(&format!("{path}/stop"), &json!({})).await.expect("stop");
    assert_eq!(
        (stopped.status, stopped.body["status"].as_str()),
        (200, Some("stopped")),
        "{}",
        stopped.body
    );
    assert!(!pg_isready(port), "the port closed");
    assert!(database_processes(&id).is_empty(), "no process left");
    let started = ada
        .token
        .post(&format!("{path}/start"), &json!({}))
        .await
        .expect("start");
    assert_eq!(started.status, 202, "{}", started.body);
    ada.database_running(&id).await;
    assert_eq!(psql(url, "SELECT sum(n) FROM kept"), Ok("7".to_owned()));

    // Delete: gone from the API, the port, the process table and the disk.
    let deleted = ada.token.delete(&path).await.expect("delete");
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(ada.token.get(&path).await.expect("request").status, 404);
    assert!(!pg_isready(port));
    assert!(database_processes(&id).is_empty());
    let mounted = std::fs::read_to_string("/proc/self/mounts").expect("mounts");
    assert!(!mounted.contains(&id), "its disk is unmounted");
    let data = server.dir.path().join("data");
    let left: Vec<_> = crate::support::files_under(&data)
        .into_iter()
        .filter(|f| f.to_string_lossy().contains(&id))
        .collect();
    assert!(left.is_empty(), "its files are gone: {left:?}");
}
