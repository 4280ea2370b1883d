//! Starting and stopping a real server, making users in it, and the git repositories it reads.

pub mod apps;
pub mod browser;
pub mod checks;
pub mod cli;
pub mod console;
pub mod databases;
pub mod deploy;
pub mod dns;
pub mod edge;
pub mod fixtures;
pub mod git;
pub mod host;
pub mod in_process;
pub mod paths;
pub mod pebble;
pub mod tenant;
pub mod tls;

/// Flags of a server whose sandboxes leave by the kernel's routing (veth pairs), not by
/// whatever `auto` finds: a test of the walls must know which path it tested.
pub const KERNEL_NETWORK: &[&str] = &["--sandbox-network", "kernel"];
/// Flags of a server whose sandboxes leave through pasta relays.
pub const PASTA_NETWORK: &[&str] = &["--sandbox-network", "pasta"];

pub use checks::{assert_error, assert_error_shape, files_under};
pub use tenant::Tenant;

use command_fds::{CommandFdExt, FdMapping};
use serde_json::Value;
use shipyard_client::Client;
use shipyard_client::types::Secret;
use shipyard_client::types::account::{MeResponse, SignupRequest};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// The resolver of test servers that run no DNS server of their own: loopback's discard port,
/// where nothing listens.
pub const NO_DNS: &str = "127.0.0.1:9";

/// Password every test user gets.
pub const PASSWORD: &str = "correct horse battery";

/// The `shipyard` binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_shipyard")
}

/// How a test server runs.
enum Running {
    /// `shipyard serve`, a child process.
    Child(Child),
    /// `serve::run_with` on a thread of the test process.
    InProcess(in_process::InProcess),
}

/// Where a test server runs.
#[derive(Clone, Copy)]
enum Launch {
    /// As its own process.
    Child,
    /// On a thread here; `stepped`: builds wait until the test asks.
    InProcess { stepped: bool },
}

/// A running `shipyard serve`, stopped (by PID, or in process) when dropped.
pub struct TestServer {
    running: Running,
    /// The temporary directory holding the data dir and the server's stderr.
    pub dir: tempfile::TempDir,
    /// `http://127.0.0.1:<port>`
    pub base: String,
}

/// Whether an HTTP server answers on `addr` (a connection to a handed-over listener succeeds
/// as soon as it is bound; the answer comes once the server serves).
fn answers(addr: std::net::SocketAddr) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let mut first = [0u8; 5];
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .and_then(|()| stream.read_exact(&mut first))
        .is_ok_and(|()| &first == b"HTTP/")
}

impl TestServer {
    /// Starts a server with the default settings plus `extra` flags.
    pub fn start(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, extra)
    }

    /// Starts a server inside the test process, for tests that need neither its process (pid,
    /// memory, stderr, a kill) nor a second start on its data.
    pub fn in_process(extra: &[&str]) -> Self {
        Self::launch(
            tempfile::tempdir().expect("tempdir"),
            extra,
            Launch::InProcess { stepped: false },
        )
    }

    /// Starts a server inside the test process whose builds wait until [`TestServer::build_next`].
    pub fn stepped(extra: &[&str]) -> Self {
        Self::launch(
            tempfile::tempdir().expect("tempdir"),
            extra,
            Launch::InProcess { stepped: true },
        )
    }

    /// Starts a server whose data dir is `<dir>/data`; its stdout and stderr go to files there.
    /// Unless `extra` names one, the server gets a sandbox uid range of its own (servers of
    /// concurrent tests must not share one, and `serve` refuses an overlapping range), kept
    /// in `<dir>/uids` so a restart on the same directory keeps it.
    pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Self {
        Self::launch(dir, extra, Launch::Child)
    }

    fn launch(dir: tempfile::TempDir, extra: &[&str], how: Launch) -> Self {
        let data = dir.path().join("data");
        let own_range = !extra.contains(&"--sandbox-uids");
        let kept = dir.path().join("uids");
        let mut slot = std::fs::read_to_string(&kept)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or_else(|| {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                (std::process::id() % 40) * 100 + NEXT.fetch_add(1, Ordering::Relaxed) % 100
            });
        for _ in 0..20 {
            let range = format!("{}-{}", 1_600_000 + slot * 100, 1_600_000 + slot * 100 + 99);
            let mut args: Vec<&str> = extra.to_vec();
            if own_range {
                args.extend(["--sandbox-uids", range.as_str()]);
                std::fs::write(&kept, slot.to_string()).expect("keep the uid slot");
            }
            // Tests send no traffic off this machine: domain lookups go to a loopback port
            // nobody answers on, unless the test runs its own DNS server.
            if !extra.contains(&"--dns-resolver") {
                args.extend(["--dns-resolver", NO_DNS]);
            }
            let started = match how {
                Launch::Child => Self::try_start(dir.path(), &data, &args),
                Launch::InProcess { stepped } => Self::try_start_in_process(&data, &args, stepped),
            };
            match started {
                Ok((running, base)) => return Self { running, dir, base },
                // Another server of this machine holds the range: take the next.
                Err(stderr) if own_range && stderr.contains("another shipyard server on this host") => {
                    slot = (slot + 1) % 4000;
                }
                Err(stderr) => panic!("shipyard serve exited; stderr:\n{stderr}"),
            }
        }
        panic!("no free sandbox uid range for a test server")
    }

    /// Spawns `serve` on a listener bound here and handed to it as systemd would (`LISTEN_FDS`,
    /// fd 3), so the address is known before the server starts; waits until it answers (Ok,
    /// with the address) or exits (Err, with its stderr).
    fn try_start(dir: &Path, data: &Path, extra: &[&str]) -> Result<(Running, String), String> {
        let stdout = std::fs::File::create(dir.join("stdout.log")).expect("stdout file");
        let stderr = std::fs::File::create(dir.join("stderr.log")).expect("stderr file");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("the listener's address");
        let mut command = Command::new(binary());
        command
            .args(["serve", "--data-dir"])
            .arg(data)
            .args(extra)
            .env("RUST_LOG", "info,sqlx=warn,shipyard_edge=debug")
            .env("LISTEN_FDS", "1")
            .stdout(stdout)
            .stderr(stderr);
        command
            .fd_mappings(vec![FdMapping {
                parent_fd: listener.into(),
                child_fd: 3,
            }])
            .expect("hand the listener over");
        let mut child = command.spawn().expect("spawn shipyard serve");
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if answers(addr) {
                return Ok((Running::Child(child), format!("http://{addr}")));
            }
            if let Ok(Some(_)) = child.try_wait() {
                return Err(read("stderr.log"));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "shipyard serve did not answer within 30 s; stderr:\n{}",
            read("stderr.log")
        )
    }

    /// Starts `serve::run_with` on a thread here; waits until it answers or ends.
    fn try_start_in_process(data: &Path, extra: &[&str], stepped: bool) -> Result<(Running, String), String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("the listener's address");
        let mut server = in_process::InProcess::start(data, extra, listener, stepped)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if answers(addr) {
                return Ok((Running::InProcess(server), format!("http://{addr}")));
            }
            if let Some(error) = server.ended() {
                return Err(error);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the in-process server did not answer within 30 s")
    }

    /// The child process of a server started as one.
    fn child(&mut self) -> &mut Child {
        match &mut self.running {
            Running::Child(child) => child,
            Running::InProcess(_) => panic!("an in-process server has no process of its own"),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        match &self.running {
            Running::Child(child) => child.id(),
            Running::InProcess(_) => panic!("an in-process server has no process of its own"),
        }
    }

    /// Builds the oldest queued job of a [`TestServer::stepped`] server; false when none was queued.
    pub async fn build_next(&self) -> bool {
        match &self.running {
            Running::InProcess(server) => server.build_next().await,
            Running::Child(_) => panic!("builds are stepped only in a server started with `stepped`"),
        }
    }

    /// The sandbox uids this server hands out.
    pub fn uid_range(&self) -> std::ops::RangeInclusive<u32> {
        let slot: u32 = std::fs::read_to_string(self.dir.path().join("uids"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .expect("a test server's uid slot");
        (1_600_000 + slot * 100)..=(1_600_000 + slot * 100 + 99)
    }

    /// The server's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    /// Everything the server wrote to stdout so far.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// An anonymous client.
    pub fn client(&self) -> Client {
        Client::new(self.base.clone())
    }

    /// Signs a new user up; returns their session client and `/auth/me`.
    pub async fn signup(&self, email: &str, workspace: &str) -> (Client, MeResponse) {
        let req = SignupRequest {
            email: email.to_owned(),
            password: Secret::new(PASSWORD),
            name: None,
            workspace_name: Some(workspace.to_owned()),
        };
        self.client().signup(&req).await.expect("signup")
    }

    /// Kills the server with SIGKILL (by PID, through its handle), as a crash would, and reaps it.
    pub fn kill(&mut self) {
        let child = self.child();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let child = self.child();
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid} failed");
        for _ in 0..100 {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("server {pid} did not exit within 10 s of SIGTERM");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // An in-process server stops as its own value drops.
        let Running::Child(child) = &mut self.running else {
            return;
        };
        // SIGTERM first, so the server stops the app instances it started (bounded: 15 s),
        // then SIGKILL by PID (the Child handle), then reap.
        if let Ok(None) = child.try_wait() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            for _ in 0..150 {
                if !matches!(child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl TestServer {
    /// The served OpenAPI document.
    pub async fn openapi(&self) -> Value {
        self.client()
            .get("/openapi.json")
            .await
            .expect("request")
            .ok()
            .expect("document")
    }
}
