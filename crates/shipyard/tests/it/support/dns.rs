//! A real DNS server for domain tests: Debian's `pebble-challtestsrv` on loopback, whose
//! records are set through its HTTP management API; started and stopped by PID. And a
//! resolver that never answers, for the timeout.

use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `pebble-challtestsrv`, killed (by PID) when dropped.
pub struct DnsServer {
    child: Child,
    /// `127.0.0.1:<port>` it answers DNS on (UDP and TCP): `--dns-resolver`.
    pub dns: String,
    management: String,
    http: reqwest::Client,
}

/// A free loopback port for both UDP and TCP (held only while chosen).
fn free_port() -> u16 {
    for _ in 0..50 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = tcp.local_addr().expect("addr").port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP")
}

impl DnsServer {
    /// Starts one with no records (no default A/AAAA answers) and waits until it answers on
    /// both ports. Ports are picked free and then let go, so another test's server may take one
    /// first: a server that does not answer its own record on its DNS port is replaced.
    pub async fn start() -> Self {
        for _ in 0..5 {
            if let Some(server) = Self::try_start().await {
                return server;
            }
        }
        panic!("pebble-challtestsrv did not start on free ports in 5 tries")
    }

    async fn try_start() -> Option<Self> {
        let (dns_port, management_port) = (free_port(), free_port());
        let dns = format!("127.0.0.1:{dns_port}");
        let management = format!("127.0.0.1:{management_port}");
        let child = Command::new("pebble-challtestsrv")
            .args(["-dns01", &dns, "-management", &management])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-defaultIPv4", "", "-defaultIPv6", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv (Debian package `pebble`; ./scripts/install-test-deps installs it)");
        shipyard_client::install_tls_provider();
        let server = Self {
            child,
            dns,
            management,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client"),
        };
        // Its own record, read back through its DNS port, says both ports are its own.
        let probe = format!("probe-{}-{dns_port}.example.net", std::process::id());
        let resolver = shipyard_domains::Dns::new(Some(server.dns.parse().expect("address"))).expect("resolver");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let set = server
                .http
                .post(format!("http://{}/set-txt", server.management))
                .json(&json!({ "host": format!("{probe}."), "value": "mine" }))
                .send()
                .await;
            if set.is_ok_and(|r| r.status().is_success()) {
                let seen = resolver.observe(&probe, &probe).await;
                let mine = matches!(&seen.challenge, shipyard_domains::lookup::Answer::Records(r)
                    if r.iter().any(|r| r.value == "mine"));
                if mine {
                    return Some(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }

    async fn post(&self, what: &str, body: serde_json::Value) {
        let answer = self
            .http
            .post(format!("http://{}/{what}", self.management))
            .json(&body)
            .send()
            .await
            .expect("pebble-challtestsrv's management API");
        assert!(answer.status().is_success(), "{what} {body}: {}", answer.status());
    }

    /// Sets the TXT record at `name` (replacing what was there).
    pub async fn set_txt(&self, name: &str, value: &str) {
        self.post("set-txt", json!({ "host": format!("{name}."), "value": value }))
            .await;
    }

    /// Removes the TXT record at `name`.
    pub async fn clear_txt(&self, name: &str) {
        self.post("clear-txt", json!({ "host": format!("{name}.") })).await;
    }

    /// Adds A records to `name`.
    pub async fn add_a(&self, name: &str, addresses: &[&str]) {
        self.post("add-a", json!({ "host": format!("{name}."), "addresses": addresses }))
            .await;
    }

    /// Removes the A records of `name`.
    pub async fn clear_a(&self, name: &str) {
        self.post("clear-a", json!({ "host": format!("{name}.") })).await;
    }

    /// Sets the CNAME of `name`.
    pub async fn set_cname(&self, name: &str, target: &str) {
        self.post(
            "set-cname",
            json!({ "host": format!("{name}."), "target": format!("{target}.") }),
        )
        .await;
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A "resolver" that takes every question and never answers (UDP and TCP), held while alive.
pub struct SilentResolver {
    _udp: std::net::UdpSocket,
    _tcp: std::net::TcpListener,
    /// `127.0.0.1:<port>`.
    pub addr: String,
}

impl SilentResolver {
    /// Binds one.
    pub fn bind() -> Self {
        let port = free_port();
        Self {
            _udp: std::net::UdpSocket::bind(("127.0.0.1", port)).expect("udp"),
            _tcp: std::net::TcpListener::bind(("127.0.0.1", port)).expect("tcp"),
            addr: format!("127.0.0.1:{port}"),
        }
    }
}
