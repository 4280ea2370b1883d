//! Running the `shipyard` client commands as the real binary, with a config directory of
//! their own, bounded in time, and a proxy that cuts a stream once.

use super::{Tenant, TestServer};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a client command did.
#[derive(Debug)]
pub struct Ran {
    /// Exit code.
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

/// Runs `shipyard <args>` in `cwd` with `config` as its config directory, `stdin` written to
/// it, and `envs` set (nothing else of the caller's SHIPYARD_* environment leaks in).
pub async fn run(config: &Path, cwd: &Path, args: &[&str], stdin: &str, envs: &[(&str, &str)]) -> Ran {
    let mut command = tokio::process::Command::new(super::binary());
    command
        .args(args)
        .current_dir(cwd)
        .env("SHIPYARD_CONFIG_DIR", config)
        .env_remove("SHIPYARD_TOKEN")
        .env_remove("SHIPYARD_URL")
        .env_remove("SHIPYARD_WORKSPACE")
        .env("CI", "true")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("spawn the client");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.as_bytes()).await.expect("write stdin");
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("shipyard {args:?} did not finish within 300 s"))
        .expect("client output");
    let ran = Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !["panicked", "Api {", "Http(", "Unexpected(", "Error {"]
            .iter()
            .any(|dump| ran.stderr.contains(dump)),
        "shipyard {args:?} printed a panic or a debug dump:\n{}",
        ran.stderr
    );
    ran
}

/// A TCP proxy to `upstream` that, once, closes a connection after `cut_after` bytes came
/// back from the upstream; `connections` counts the connections it took.
pub struct CuttingProxy {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// Connections taken so far.
    pub connections: Arc<AtomicUsize>,
    /// Whether the cut happened.
    pub cut: Arc<AtomicBool>,
}

impl CuttingProxy {
    /// Starts the proxy on a free loopback port.
    pub async fn start(upstream: &str, cut_after: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let connections = Arc::new(AtomicUsize::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let (count, done) = (connections.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                tokio::spawn(pipe(client, server, cut_after, done.clone()));
            }
        });
        Self { base, connections, cut }
    }
}

/// Copies both ways; the first connection to pass `cut_after` bytes back is closed there.
async fn pipe(client: tokio::net::TcpStream, server: tokio::net::TcpStream, cut_after: usize, cut: Arc<AtomicBool>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = tokio::spawn(async move { tokio::io::copy(&mut client_read, &mut server_write).await });
    let mut sent = 0;
    let mut buf = vec![0; 512];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if sent + n > cut_after && !cut.swap(true, Ordering::SeqCst) {
            let _ = client_write.write_all(&buf[..cut_after - sent]).await;
            break;
        }
        sent += n;
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
}

/// A user's command line: a config directory and a working directory of its own.
pub struct Shell {
    /// Its config directory (where `login` stores the token).
    pub config: tempfile::TempDir,
    /// Its working directory.
    pub cwd: tempfile::TempDir,
}

impl Default for Shell {
    fn default() -> Self {
        Self::new()
    }
}

impl Shell {
    /// A fresh config and working directory.
    pub fn new() -> Self {
        Self {
            config: tempfile::tempdir().expect("config dir"),
            cwd: tempfile::tempdir().expect("cwd"),
        }
    }

    /// Runs `shipyard <args>` in its working directory.
    pub async fn run(&self, args: &[&str]) -> Ran {
        run(self.config.path(), self.cwd.path(), args, "", &[]).await
    }

    /// Runs `shipyard <args>` in `cwd`.
    pub async fn run_in(&self, cwd: &Path, args: &[&str]) -> Ran {
        run(self.config.path(), cwd, args, "", &[]).await
    }
}

/// The one JSON document a command that exited 0 printed.
pub fn json_of(ran: &Ran) -> Value {
    assert_eq!(ran.code, 0, "exit 0 expected; stderr:\n{}", ran.stderr);
    serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{}", ran.stdout))
}

/// A shell logged in to `server` as `ada` (the token from stdin), its login stored 0600.
pub async fn logged_in(server: &TestServer, ada: &Tenant) -> Shell {
    let shell = Shell::new();
    let ran = run(
        shell.config.path(),
        shell.cwd.path(),
        &["login", "--server", &server.base],
        &format!("{}\n", ada.token_secret),
        &[],
    )
    .await;
    assert_eq!(ran.code, 0, "login: {}", ran.stderr);
    let stored = shell.config.path().join("login.json");
    let mode = std::fs::metadata(&stored).expect("stored login").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the stored token is readable by its user alone");
    shell
}

/// Asserts the `--json` list `ran` printed is exactly `field` of what `api` answers for `path`
/// (the API's own items, every field), and returns it.
pub async fn assert_lists_as_api(ran: &Ran, api: &shipyard_client::Client, path: &str, field: &str) -> Value {
    let listed = json_of(ran);
    let answer = api.get(path).await.expect("request").ok().expect("the API's list");
    assert_eq!(listed, answer[field], "--json lists what {path} answers");
    assert!(
        listed.as_array().is_some_and(|l| !l.is_empty()),
        "a list with items: {listed}"
    );
    listed
}
