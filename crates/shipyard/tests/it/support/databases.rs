//! Managed databases from tests: made through the API, waited for (bounded), reached with
//! the host's `psql`, and their processes found in `/proc`.

use super::Tenant;
use serde_json::Value;
use std::time::{Duration, Instant};

/// A database made by a test and running.
pub struct RunningDatabase {
    /// `db_…`
    pub id: String,
    /// Its loopback port.
    pub port: u64,
    /// Its tenant role's connection URL (with the password).
    pub url: String,
}

impl Tenant {
    /// Creates a database with `body`; returns its view (201 expected).
    pub async fn create_database(&self, body: &Value) -> Value {
        self.post_ok(&format!("/tenants/{}/databases", self.tenant_id), body)
            .await
    }

    /// The database's view.
    pub async fn database(&self, id: &str) -> Value {
        self.token
            .get(&format!("/tenants/{}/databases/{id}", self.tenant_id))
            .await
            .expect("request")
            .ok()
            .expect("database")
    }

    /// Waits (at most `secs`) until the database is no longer provisioning; its view.
    pub async fn database_settled(&self, id: &str, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let view = self.database(id).await;
            if view["status"] != "provisioning" {
                return view;
            }
            assert!(Instant::now() < deadline, "still provisioning after {secs} s: {view}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until the database runs (`running` and answering `pg_isready`); its view.
    pub async fn database_running(&self, id: &str) -> Value {
        let view = self.database_settled(id, 120).await;
        assert_eq!(view["status"], "running", "{view}");
        let port = view["port"].as_u64().expect("port");
        // A start answers `running` at once and the server comes up behind it (its disk
        // mounted, its log replayed). One CI run (session 33) saw no answer within 30 s after
        // a restart of a full disk; the view below says why if it happens again.
        let deadline = Instant::now() + Duration::from_secs(90);
        while !pg_isready(port) {
            if Instant::now() >= deadline {
                panic!("pg_isready never answered on {port}: {}", self.database(id).await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        view
    }

    /// Creates a database with `body` and waits until it runs; its id, port and connection URL.
    pub async fn running_database(&self, body: &Value) -> RunningDatabase {
        let id = self.create_database(body).await["id"].as_str().expect("id").to_owned();
        let port = self.database_running(&id).await["port"].as_u64().expect("port");
        let url = self.database_connection(&id).await["url"]
            .as_str()
            .expect("url")
            .to_owned();
        RunningDatabase { id, port, url }
    }

    /// Takes a backup of `db` (201 expected) and waits (bounded) until it ended; its view.
    pub async fn backup_taken(&self, db: &str) -> Value {
        let made = self
            .post_ok(
                &format!("/tenants/{}/databases/{db}/backups", self.tenant_id),
                &serde_json::json!({}),
            )
            .await;
        assert_eq!(made["status"], "pending", "{made}");
        self.ended(&format!(
            "/tenants/{}/databases/{db}/backups/{}",
            self.tenant_id,
            made["id"].as_str().expect("id")
        ))
        .await
    }

    /// A completed backup of `db` and a completed restore of it into a new database: the
    /// matrices' `backupId` and `restoreId`.
    pub async fn backup_fixture(&self, db: &str) -> (String, String) {
        self.database_running(db).await;
        let backup = self.backup_taken(db).await;
        assert_eq!(backup["status"], "completed", "{backup}");
        let backup_id = backup["id"].as_str().expect("id").to_owned();
        let restore = self.restored(db, &backup_id, &serde_json::json!({})).await;
        assert_eq!(restore["status"], "completed", "{restore}");
        (backup_id, restore["id"].as_str().expect("id").to_owned())
    }

    /// Restores backup `backup` of `db` with `body` (202 expected) and waits until the restore
    /// ended; its view.
    pub async fn restored(&self, db: &str, backup: &str, body: &Value) -> Value {
        let base = format!("/tenants/{}/databases/{db}", self.tenant_id);
        let asked = self
            .token
            .post(&format!("{base}/backups/{backup}/restore"), body)
            .await
            .expect("restore");
        assert_eq!(asked.status, 202, "{}", asked.body);
        self.ended(&format!("{base}/restores/{}", asked.body["id"].as_str().expect("id")))
            .await
    }

    /// Waits (at most 5 minutes) until the job at `path` (a backup or a restore) ended.
    pub async fn ended(&self, path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let view = self.token.get(path).await.expect("request").ok().expect("job");
            if view["status"] == "completed" || view["status"] == "failed" {
                return view;
            }
            assert!(
                Instant::now() < deadline,
                "still {} after 5 minutes: {view}",
                view["status"]
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// `…/connection` of the database.
    pub async fn database_connection(&self, id: &str) -> Value {
        self.token
            .get(&format!("/tenants/{}/databases/{id}/connection", self.tenant_id))
            .await
            .expect("request")
            .ok()
            .expect("connection")
    }
}

/// Whether a server accepts connections on the loopback port.
pub fn pg_isready(port: u64) -> bool {
    std::process::Command::new("pg_isready")
        .args(["-q", "-t", "2", "-h", "127.0.0.1", "-p", &port.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `sql` with `psql` at `url` (bounded: 60 s); its output, or its error text.
pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = std::process::Command::new("timeout")
        .args(["60", "psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-Atc", sql])
        .output()
        .expect("run psql");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// The processes of database `id` (found by their limit group): (pid, uid, parent pid).
pub fn database_processes(id: &str) -> Vec<(u32, u32, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let read = |file: &str| std::fs::read_to_string(entry.path().join(file)).unwrap_or_default();
        if read("comm").trim() != "postgres" || !read("cgroup").contains(&format!("/{id}-")) {
            continue;
        }
        let status = read("status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        found.push((pid, field("Uid:"), field("PPid:")));
    }
    found
}

/// The postmasters among a database's processes: those whose parent is not one of them.
pub fn postmasters(id: &str) -> Vec<u32> {
    let all = database_processes(id);
    all.iter()
        .filter(|(_, _, parent)| !all.iter().any(|(pid, _, _)| pid == parent))
        .map(|(pid, _, _)| *pid)
        .collect()
}
