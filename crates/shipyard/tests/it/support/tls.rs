//! HTTPS for tests: a certificate authority of the test's own, certificates it signs for the
//! names a test needs, and clients that trust that authority alone.

use super::TestServer;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A certificate authority made for one test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate (PEM), the one root the test's clients trust.
    pub pem: String,
}

/// A certificate the authority signed, written to files.
pub struct Issued {
    /// The chain (PEM: the leaf, then the authority).
    pub cert: PathBuf,
    /// The leaf's private key (PEM).
    pub key: PathBuf,
    /// The leaf in DER, to recognise it in a handshake.
    pub der: Vec<u8>,
}

impl TestCa {
    /// A new authority with a fresh key.
    pub fn new() -> Self {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "Shipyard test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Signs a certificate for `names`, written as `<stem>.pem` and `<stem>.key` in `dir`.
    pub fn issue(&self, names: &[&str], dir: &Path, stem: &str) -> Issued {
        let key = KeyPair::generate().expect("a leaf key");
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).expect("leaf params");
        let leaf = params.signed_by(&key, &self.issuer).expect("leaf certificate");
        let issued = Issued {
            cert: dir.join(format!("{stem}.pem")),
            key: dir.join(format!("{stem}.key")),
            der: leaf.der().to_vec(),
        };
        std::fs::write(&issued.cert, format!("{}{}", leaf.pem(), self.pem)).expect("write the chain");
        std::fs::write(&issued.key, key.serialize_pem()).expect("write the key");
        issued
    }

    /// A client trusting this authority alone, sending each name of `hosts` to `addr`, following
    /// no redirect and reporting the server's certificate.
    pub fn client(&self, hosts: &[&str], addr: SocketAddr) -> reqwest::Client {
        https_client(&self.pem, hosts, addr)
    }
}

/// A client trusting `root` (PEM) alone, sending each name of `hosts` to `addr`, following no
/// redirect and reporting the server's certificate.
pub fn https_client(root: &str, hosts: &[&str], addr: SocketAddr) -> reqwest::Client {
    {
        shipyard_client::install_tls_provider();
        let root = reqwest::Certificate::from_pem(root.as_bytes()).expect("a root certificate");
        let mut builder = reqwest::Client::builder()
            .tls_certs_only([root])
            .tls_info(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20));
        for host in hosts {
            builder = builder.resolve(host, addr);
        }
        builder.build().expect("a TLS client")
    }
}

impl TestCa {
    /// A client trusting this authority alone, resolving names as the system does.
    pub fn trusting(&self) -> reqwest::Client {
        self.client(&[], SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}

/// The certificate the server presented for `response` (DER).
pub fn presented(response: &reqwest::Response) -> Vec<u8> {
    response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the server's certificate")
        .to_vec()
}

impl TestServer {
    /// The port of the server's plain listener.
    pub fn plain_port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the plain listener's port")
    }

    /// The address of the server's HTTPS listener, from the line `serve` prints at start.
    pub fn tls_addr(&self) -> SocketAddr {
        let stdout = self.stdout();
        stdout
            .lines()
            .find_map(|line| line.strip_prefix("shipyard listening for HTTPS on https://"))
            .unwrap_or_else(|| panic!("no HTTPS listener in the server's banner:\n{stdout}"))
            .trim()
            .parse()
            .expect("the HTTPS listener's address")
    }
}

/// Makes `count` requests for `url` (at `host`, sent to `tls`), each with a client of its own
/// trusting `root` — a new handshake each, since a resumed session would show the certificate
/// of the session it resumes — `pause` apart, in a task: what failed, and the certificate each
/// answer came with, in order.
pub fn handshake_loop(
    root: &str,
    host: &'static str,
    tls: SocketAddr,
    url: String,
    (count, pause): (usize, Duration),
) -> tokio::task::JoinHandle<(Vec<String>, Vec<Vec<u8>>)> {
    let root = root.to_owned();
    tokio::spawn(async move {
        let (mut failed, mut served) = (Vec::new(), Vec::new());
        for _ in 0..count {
            match https_client(&root, &[host], tls).get(&url).send().await {
                Ok(answer) if answer.status() == 200 => served.push(presented(&answer)),
                Ok(answer) => failed.push(format!("status {}", answer.status())),
                Err(e) => failed.push(format!("{e:?}")),
            }
            tokio::time::sleep(pause).await;
        }
        (failed, served)
    })
}
