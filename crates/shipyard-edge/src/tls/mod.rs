//! HTTPS: the TLS listener's configuration (rustls with the ring provider, HTTP/2 and
//! HTTP/1.1 by ALPN, certificates chosen by SNI), the redirect of plain HTTP to it for hosts
//! that have a certificate, and HSTS on its answers.

mod certs;
mod challenges;
mod given;

pub use certs::{Certificates, Certified, Names, PemError};
pub use challenges::Challenges;
pub use given::{CertificateError, GivenFiles, GivenPem};

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, Uri, header};
use std::sync::Arc;

/// The TLS library's cryptography: ring, as everywhere in the tree (DESIGN.md, #39). rustls
/// 0.23.48 deprecates it for lacking post-quantum key exchange; handshakes use X25519 instead.
#[allow(deprecated)]
pub fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Makes [`provider`] the process's own: reqwest is built without one, and building any of its
/// clients (health checks, the CLI's) panics until one is installed. A second call changes nothing.
pub fn install_provider() {
    let _ = provider().install_default();
}

/// Marks a request that came over TLS (a request extension the edge sets; nothing a client
/// sends can set it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverTls;

/// Where ACME's HTTP-01 challenges are asked for: never redirected, never an app's.
pub const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The TLS listener's socket and configuration, for the data plane's workers.
pub struct TlsListener {
    /// Where HTTPS connections arrive.
    pub listener: tokio::net::TcpListener,
    /// How they are received ([`Https::server_config`]).
    pub config: Arc<rustls::ServerConfig>,
}

/// The TLS listener's settings, as the edge's dispatch needs them.
#[derive(Debug, Clone)]
pub struct Https {
    /// The port the TLS listener took (a redirect names it unless it is 443).
    pub port: u16,
    /// What the listener presents.
    pub certificates: Certificates,
    /// ACME's HTTP-01 challenges in flight, answered on the plain listener.
    pub challenges: Challenges,
    /// `Strict-Transport-Security` on HTTPS answers (None: `--hsts-max-age 0`).
    hsts: Option<HeaderValue>,
}

impl Https {
    /// The listener on `port` presenting `certificates`, with HSTS for `hsts_max_age` seconds
    /// (0: none).
    pub fn new(port: u16, certificates: Certificates, hsts_max_age: u64) -> Self {
        let hsts = (hsts_max_age > 0).then(|| {
            HeaderValue::from_str(&format!("max-age={hsts_max_age}")).unwrap_or(HeaderValue::from_static("max-age=0"))
        });
        Self {
            port,
            certificates,
            challenges: Challenges::new(),
            hsts,
        }
    }

    /// The rustls configuration of the listener.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
        let provider = Arc::new(provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(self.certificates.clone()));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The 308 that sends a plain-HTTP request for `host` to HTTPS, when `host` has a
    /// certificate (ACME's challenges excepted: the CA asks for them over plain HTTP).
    pub(crate) fn redirect(&self, host: &str, uri: &Uri) -> Option<Response<Body>> {
        // `OPTIONS *` has no path to send elsewhere.
        if !uri.path().starts_with('/') || uri.path().starts_with(CHALLENGE_PREFIX) || !self.certificates.cover(host) {
            return None;
        }
        let port = if self.port == 443 {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let location = HeaderValue::from_str(&format!("https://{host}{port}{path}")).ok()?;
        Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, location)
            .body(Body::empty())
            .ok()
    }

    /// Adds HSTS to an HTTPS answer (unless it is off, or the app set its own).
    pub(crate) fn harden(&self, response: &mut Response<Body>) {
        if let Some(hsts) = &self.hsts {
            response
                .headers_mut()
                .entry(header::STRICT_TRANSPORT_SECURITY)
                .or_insert_with(|| hsts.clone());
        }
    }
}
