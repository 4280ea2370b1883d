//! One cluster on this host: its files, and the sandboxed `initdb` and `postgres` runs.

use crate::conf::{self, CONTROL_INSIDE, INNER_PORT, PGDATA, ROOT_INSIDE, SOCKET_DIR, SUPERUSER};
use crate::engine::Engine;
use crate::error::DatabaseError;
use shipyard_core::SecretString;
use shipyard_sandbox::{Bind, Forward, Identity, LimitGroup, Limits, Network, Sandbox, Spec};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Child;

/// How long `initdb` may take (it syncs every file it writes).
const INITDB_WITHIN: Duration = Duration::from_secs(120);
/// How long a started server may take to accept the platform's connection.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How long a server that says it is starting up (replaying its log after a crash) may take.
const RECOVERY_WITHIN: Duration = Duration::from_secs(30 * 60);
/// Where initdb makes a cluster before it moves to `PGDATA`, beside it on the data disk.
const FRESH: &str = "pgdata.initdb";

/// A cluster's place on this host and what it runs as.
#[derive(Debug, Clone)]
pub(crate) struct Cluster {
    /// The database it serves.
    pub id: String,
    /// Its uid (gid the same).
    pub uid: u32,
    /// The host's loopback port.
    pub port: u16,
    /// Memory limit of all its processes.
    pub memory_mb: u32,
    /// Size of its data disk.
    pub disk_mb: u32,
    /// The server binaries.
    pub engine: Engine,
    /// Where its data disk is mounted on the host (its uid's: the platform never writes there).
    pub mount: PathBuf,
    /// Its control directory on the host: root's, made afresh before every run, holding what
    /// the platform writes (configuration, initdb's password file) and the socket's directory.
    pub control: PathBuf,
}

/// A started server: its process (bubblewrap), its limit group and its network namespace.
pub(crate) struct Started {
    /// bubblewrap, whose child is the postmaster.
    pub child: Child,
    /// Every process of the cluster, with its limits.
    pub group: Option<LimitGroup>,
    /// Kept for as long as the server runs: pasta forwards the port into it.
    pub _network: Option<Network>,
}

impl Cluster {
    /// The data directory on the host.
    pub fn pgdata(&self) -> PathBuf {
        self.mount.join(PGDATA)
    }

    /// Whether `initdb` completed here before.
    pub fn initialised(&self) -> bool {
        self.pgdata().join("PG_VERSION").is_file()
    }

    fn limits(&self) -> Limits {
        Limits {
            memory_bytes: u64::from(self.memory_mb) * 1024 * 1024,
            pids: u64::from(conf::max_connections(self.memory_mb)) + 30,
            cpu_millis: None,
        }
    }

    pub(crate) fn spec(&self, program: Vec<std::ffi::OsString>) -> Spec {
        let inside = PathBuf::from(ROOT_INSIDE);
        let put = |k: &str, v: String| (k.to_owned(), SecretString::from(v));
        Spec {
            binds: vec![
                Bind {
                    host: self.mount.clone(),
                    inside: inside.clone(),
                    writable: true,
                },
                Bind {
                    host: self.control.clone(),
                    inside: PathBuf::from(CONTROL_INSIDE),
                    writable: false,
                },
                Bind {
                    host: self.control.join(SOCKET_DIR),
                    inside: Path::new(CONTROL_INSIDE).join(SOCKET_DIR),
                    writable: true,
                },
            ],
            env: vec![
                put("PATH", format!("{}:/usr/bin:/bin", self.engine.bin.display())),
                put("HOME", ROOT_INSIDE.to_owned()),
                put("LANG", "C.UTF-8".to_owned()),
                put("PGDATA", format!("{ROOT_INSIDE}/{PGDATA}")),
            ],
            chdir: inside,
            program,
        }
    }

    /// Makes the cluster: `initdb` as the database's uid, with the platform's superuser and
    /// its password (handed over in a file of that uid's, removed after).
    pub async fn initdb(&self, sandbox: &Sandbox, superuser_password: &str) -> Result<(), DatabaseError> {
        // initdb makes the cluster beside its place and it moves in only when complete: a
        // data directory is never half made, so none is ever removed.
        let fresh = self.mount.join(FRESH);
        match std::fs::remove_dir_all(&fresh) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(DatabaseError::step("clearing an interrupted initdb", e));
            }
            _ => {}
        }
        self.prepare_control().map_err(|e| DatabaseError::step("initdb", e))?;
        let pwfile = self.control.join("superuser-password");
        self.control_file(&pwfile, superuser_password, Some(self.uid))
            .map_err(|e| DatabaseError::step("initdb", e))?;
        let bin = self.engine.bin.join("initdb");
        let program = [
            bin.as_os_str(),
            "--pgdata".as_ref(),
            format!("{ROOT_INSIDE}/{FRESH}").as_ref(),
            "--username".as_ref(),
            SUPERUSER.as_ref(),
            "--pwfile".as_ref(),
            format!("{CONTROL_INSIDE}/superuser-password").as_ref(),
            "--auth-local=scram-sha-256".as_ref(),
            "--auth-host=scram-sha-256".as_ref(),
            "--encoding=UTF8".as_ref(),
            "--locale=C.UTF-8".as_ref(),
        ]
        .iter()
        .map(|s| s.to_os_string())
        .collect();
        let ran = self.run_to_end(sandbox, "initdb", program, INITDB_WITHIN).await;
        let _ = std::fs::remove_file(&pwfile);
        ran?;
        std::fs::rename(&fresh, self.pgdata()).map_err(|e| DatabaseError::step("initdb", e))
    }

    /// Runs `program` in the sandbox (no network) to its end; its output is the error.
    async fn run_to_end(
        &self,
        sandbox: &Sandbox,
        step: &'static str,
        program: Vec<std::ffi::OsString>,
        within: Duration,
    ) -> Result<(), DatabaseError> {
        let bound = self.bound(sandbox, None)?;
        let group = bound
            .limit_group(&format!("{}-{step}", self.id))
            .map_err(|e| DatabaseError::step(step, e))?;
        let command = bound
            .command(&self.spec(program), group.as_ref())
            .map_err(|e| DatabaseError::step(step, e))?;
        let child = command.spawn().await.map_err(|e| DatabaseError::step(step, e))?;
        let out = tokio::time::timeout(within, child.wait_with_output())
            .await
            .map_err(|_| DatabaseError::step(step, format!("it did not finish within {} s", within.as_secs())))?
            .map_err(|e| DatabaseError::step(step, e))?;
        if let Some(group) = &group {
            group.kill_everyone().await;
            group.remove();
        }
        if out.status.success() {
            return Ok(());
        }
        let said = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = said.lines().rev().take(5).collect();
        Err(DatabaseError::step(
            step,
            last.into_iter().rev().collect::<Vec<_>>().join(" / "),
        ))
    }

    /// The sandbox this cluster's processes run in: its uid, its data disk as HOME.
    pub(crate) fn bound(&self, sandbox: &Sandbox, network: Option<&Network>) -> Result<Sandbox, DatabaseError> {
        sandbox
            .with_limits(self.limits())
            .for_project(Identity::project(self.uid), Path::new(ROOT_INSIDE), network)
            .map_err(|e| DatabaseError::step("preparing the sandbox", e))
    }

    /// Makes the control directory afresh: root's (the database's uid may read it, never
    /// change it), with the socket's directory the uid's alone. Nothing the platform writes
    /// goes where the uid could have planted a link or a FIFO first.
    fn prepare_control(&self) -> std::io::Result<()> {
        if let Some(parent) = self.control.parent() {
            std::fs::create_dir_all(parent)?;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755))?;
        }
        match std::fs::remove_dir_all(&self.control) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::fs::create_dir(&self.control)?;
        std::fs::set_permissions(&self.control, std::fs::Permissions::from_mode(0o755))?;
        let socket = self.control.join(SOCKET_DIR);
        std::fs::create_dir(&socket)?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o700))?;
        std::os::unix::fs::chown(&socket, Some(self.uid), Some(self.uid))
    }

    /// Writes a new file of the control directory: root's and world-readable, or (`owner`)
    /// that uid's alone.
    fn control_file(&self, path: &Path, text: &str, owner: Option<u32>) -> std::io::Result<()> {
        use std::io::Write;
        let mode = if owner.is_some() { 0o600 } else { 0o644 };
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)?;
        file.write_all(text.as_bytes())?;
        if let Some(uid) = owner {
            std::os::unix::fs::chown(path, Some(uid), Some(uid))?;
        }
        Ok(())
    }

    /// Replaces `pg_hba.conf` of a running server (whole, by a rename); the caller reloads it.
    pub fn rewrite_hba(&self, owner: &str, database: &str) -> std::io::Result<()> {
        let next = self.control.join("pg_hba.conf.next");
        match std::fs::remove_file(&next) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.control_file(&next, &conf::pg_hba_conf(owner, database), None)?;
        std::fs::rename(&next, self.control.join("pg_hba.conf"))
    }

    /// Writes the server's configuration into a fresh control directory.
    pub fn configure(&self, username: &str, database: &str) -> std::io::Result<()> {
        self.prepare_control()?;
        self.control_file(
            &self.control.join("postgresql.conf"),
            &conf::postgresql_conf(self.memory_mb, self.disk_mb),
            None,
        )?;
        self.control_file(
            &self.control.join("pg_hba.conf"),
            &conf::pg_hba_conf(username, database),
            None,
        )
    }

    /// Starts `postgres` in its sandbox, its network namespace forwarding the host's port in.
    pub async fn start(&self, sandbox: &Sandbox, run: &str) -> Result<Started, DatabaseError> {
        let forwards = [Forward {
            host_port: self.port,
            port: INNER_PORT,
        }];
        let (net_sandbox, net_name) = (sandbox.clone(), run.to_owned());
        let network = tokio::task::spawn_blocking(move || net_sandbox.network_forwarding(&net_name, &forwards))
            .await
            .map_err(|e| DatabaseError::step("preparing the network", e))?
            .map_err(|e| DatabaseError::step("preparing the network", e))?;
        let bound = self.bound(sandbox, network.as_ref())?;
        let group = bound
            .limit_group(run)
            .map_err(|e| DatabaseError::step("starting the server", e))?;
        // pasta's relay (on its path) is the database's: its memory counts against its limit.
        if let (Some(group), Some(relay)) = (&group, network.as_ref().and_then(|n| n.relay_pid())) {
            group
                .adopt(relay)
                .map_err(|e| DatabaseError::step("starting the server", e))?;
        }
        let program = vec![
            self.engine.bin.join("postgres").into_os_string(),
            "-c".into(),
            format!("config_file={CONTROL_INSIDE}/postgresql.conf").into(),
        ];
        let child = bound
            .command(&self.spec(program), group.as_ref())
            .map_err(|e| DatabaseError::step("starting the server", e))?
            .spawn()
            .await
            .map_err(|e| DatabaseError::step("starting the server", e))?;
        Ok(Started {
            child,
            group,
            _network: network,
        })
    }

    /// The platform's connection over the unix socket.
    pub async fn admin(&self, superuser_password: &str) -> Result<PgConnection, sqlx::Error> {
        self.admin_to(superuser_password, "postgres").await
    }

    /// The platform's connection to `database` over the unix socket, with no schema on its
    /// search path (every name it uses is qualified, so nothing the tenant defines in a schema
    /// of its own can stand in for a function the platform calls as superuser) and the
    /// settings that spell values pinned, whatever the tenant set on its database: a backup's
    /// fingerprint reads rows as text on two databases and must spell them alike. A lock the
    /// tenant holds makes a query fail within a minute, never wait forever.
    pub async fn admin_to(&self, superuser_password: &str, database: &str) -> Result<PgConnection, sqlx::Error> {
        // A socket's path is at most 107 bytes, and a data directory deep in a home directory
        // makes the control directory's longer: the socket is reached through this process's
        // handle of its directory instead, whatever the data directory's path.
        let dir = std::fs::File::open(self.control.join(SOCKET_DIR))?;
        let short = PathBuf::from(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&dir)));
        let options = PgConnectOptions::new()
            .socket(short)
            .port(INNER_PORT)
            .username(SUPERUSER)
            .password(superuser_password)
            .database(database)
            .options([
                ("search_path", ""),
                ("DateStyle", "ISO, MDY"),
                ("IntervalStyle", "postgres"),
                ("TimeZone", "UTC"),
                ("extra_float_digits", "1"),
                ("bytea_output", "hex"),
                ("lock_timeout", "60s"),
                ("statement_timeout", "0"),
                ("idle_in_transaction_session_timeout", "0"),
            ]);
        let connected = PgConnection::connect_with(&options).await;
        drop(dir);
        connected
    }

    /// Waits (bounded) until the server takes the platform's connection.
    pub async fn ready(&self, superuser_password: &str, started: &mut Started) -> Result<PgConnection, DatabaseError> {
        let began = tokio::time::Instant::now();
        loop {
            match self.admin(superuser_password).await {
                Ok(conn) => return Ok(conn),
                Err(e) => {
                    // 57P03: "the database system is starting up" — a long recovery is not a
                    // failure while the server lives and says so.
                    let recovering = e
                        .as_database_error()
                        .and_then(|d| d.code())
                        .is_some_and(|code| code == "57P03");
                    let within = if recovering { RECOVERY_WITHIN } else { READY_WITHIN };
                    if began.elapsed() >= within {
                        return Err(DatabaseError::step("starting the server", e));
                    }
                }
            }
            if let Ok(Some(status)) = started.child.try_wait() {
                return Err(DatabaseError::step(
                    "starting the server",
                    format!("it exited ({status})"),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
