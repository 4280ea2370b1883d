//! A real ACME server for HTTPS tests: Debian's `pebble` on loopback (Let's Encrypt's test CA),
//! resolving names through the test's `pebble-challtestsrv` and validating HTTP-01 challenges
//! at the edge's plain port; its own HTTPS certificate comes from the test's CA. Started and
//! stopped by PID.

use super::dns::DnsServer;
use super::tls::TestCa;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running pebble, killed (by PID) when dropped.
pub struct Pebble {
    child: Child,
    management: String,
    _dir: tempfile::TempDir,
}

/// Where a pebble will listen, known before it starts (the server under test is told its
/// directory first; pebble is then told the server's plain port).
pub struct PebblePorts {
    /// `https://localhost:<port>/dir`: `--acme-directory`.
    pub directory: String,
    /// The test CA's certificate file: `--acme-ca-root`.
    pub ca_root: PathBuf,
    port: u16,
    management_port: u16,
    dir: tempfile::TempDir,
}

/// A loopback port free now.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("addr").port()
}

impl PebblePorts {
    /// Free ports for a pebble whose HTTPS certificate `ca` signs.
    pub fn new(ca: &TestCa) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_root = dir.path().join("ca.pem");
        std::fs::write(&ca_root, &ca.pem).expect("the CA file");
        let port = free_port();
        Self {
            directory: format!("https://localhost:{port}/dir"),
            ca_root,
            port,
            management_port: free_port(),
            dir,
        }
    }

    /// Starts pebble validating at `http_port` (the edge's plain listener) with names resolved
    /// by `dns`; waits until its directory answers.
    pub async fn start(self, ca: &TestCa, dns: &DnsServer, http_port: u16) -> Pebble {
        let own = ca.issue(&["localhost"], self.dir.path(), "pebble");
        let config = serde_json::json!({ "pebble": {
            "listenAddress": format!("127.0.0.1:{}", self.port),
            "managementListenAddress": format!("127.0.0.1:{}", self.management_port),
            "certificate": own.cert,
            "privateKey": own.key,
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        }});
        let config_file = self.dir.path().join("pebble.json");
        std::fs::write(&config_file, config.to_string()).expect("pebble config");
        let child = Command::new("pebble")
            .arg("-config")
            .arg(&config_file)
            .args(["-dnsserver", &dns.dns])
            // Validate at once, never reject a nonce on purpose, always ask for a challenge.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.path().join("pebble.log")).expect("pebble log"))
            .spawn()
            .expect("pebble (Debian package `pebble`; ./scripts/install-test-deps installs it)");
        let pebble = Pebble {
            child,
            management: format!("https://localhost:{}", self.management_port),
            _dir: self.dir,
        };
        let client = ca.trusting();
        let deadline = Instant::now() + Duration::from_secs(20);
        while client.get(&self.directory).send().await.is_err() {
            assert!(Instant::now() < deadline, "pebble did not answer within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        pebble
    }
}

impl Pebble {
    /// The root that signs the certificates pebble issues (PEM), from its management API.
    pub async fn issuing_root(&self, ca: &TestCa) -> String {
        ca.trusting()
            .get(format!("{}/roots/0", self.management))
            .send()
            .await
            .expect("pebble's roots")
            .text()
            .await
            .expect("the root")
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
