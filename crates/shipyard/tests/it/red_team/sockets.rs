//! Red team (#30): a build cannot reach the host's Unix sockets. The sandbox shows only what
//! builds and instances need of the host (`/usr`, `/etc`, `/opt`, `/sys`, read-only) and fresh
//! `/tmp`, `/var/tmp` and `/run`, so a root-owned 0666 socket anywhere else answers nobody inside.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

/// Connects to every path given and says `REACHED <path>` or `BLOCKED <path>`; first to a socket
/// of its own in the sandbox's `/tmp`, so the probe is seen to work.
const PROBE: &str = r#"
const net = require('net');
const own = '/tmp/probe-own.sock';
const server = net.createServer(c => { c.on('error', () => {}); c.end('inside\n'); }).listen(own, async () => {
  for (const path of [own, ...process.argv.slice(2)]) {
    await new Promise(done => {
      const s = net.connect(path);
      const say = word => { console.log(word + ' ' + path); s.destroy(); done(); };
      s.on('connect', () => say('REACHED'));
      s.on('error', () => say('BLOCKED'));
      s.setTimeout(3000, () => say('BLOCKED'));
    });
  }
  server.close();
});
"#;

/// The test's socket files, removed however the test ends.
struct Sockets(Vec<PathBuf>);

impl Drop for Sockets {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A root-owned socket anyone may connect to, as D-Bus's or a database's are, answering `host`.
fn host_socket(path: &PathBuf) -> UnixListener {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).expect("bind the socket");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).expect("chmod 0666");
    let serving = listener.try_clone().expect("clone");
    std::thread::spawn(move || {
        for mut stream in serving.incoming().flatten() {
            let _ = stream.write_all(b"host\n");
        }
    });
    listener
}

#[tokio::test]
async fn a_build_reaches_no_host_unix_socket_in_run_tmp_or_var_tmp() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let name = format!("shipyard-test-{}.sock", std::process::id());
    let paths: Vec<PathBuf> = ["/run", "/tmp", "/var/tmp"]
        .iter()
        .map(|d| PathBuf::from(d).join(&name))
        .collect();
    let sockets = Sockets(paths.clone());
    let _listeners: Vec<UnixListener> = paths.iter().map(host_socket).collect();
    // Positive control on the host: each socket answers a connection from outside a sandbox.
    for path in &paths {
        let mut answer = String::new();
        UnixStream::connect(path)
            .and_then(|mut s| s.read_to_string(&mut answer))
            .expect("the host's own connection");
        assert_eq!(answer, "host\n", "{}", path.display());
    }
    // `/var/run` is the host's `/run` by another name.
    let mut targets: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    targets.push(format!("/var/run/{name}"));
    let files = [("probe.js", PROBE)];
    let command = format!(
        "node probe.js {} && mkdir -p dist && echo ok > dist/index.html",
        targets.join(" ")
    );
    let app = ada
        .deployable(&server, "sockets", "static", &files, static_build(&command))
        .await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    let lines = ada.log_lines(done["id"].as_str().expect("id")).await;
    let text: Vec<&str> = lines.iter().filter_map(|l: &Value| l["line"].as_str()).collect();
    let text = text.join("\n");
    assert_eq!(done["status"], "ready", "{done}\n{text}");
    assert!(
        text.contains("REACHED /tmp/probe-own.sock"),
        "the probe works inside:\n{text}"
    );
    for target in &targets {
        assert!(text.contains(&format!("BLOCKED {target}")), "{target} refused:\n{text}");
        assert!(
            !text.contains(&format!("REACHED {target}")),
            "{target} reached:\n{text}"
        );
    }
    drop(sockets);
}
