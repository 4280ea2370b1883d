//! The operator's own certificate (`--tls-cert`, `--tls-key`): PEM files read at start and
//! again whenever they change, so a renewal done outside Shipyard (certbot, a company's CA)
//! takes effect without a restart. A file that cannot be used keeps the certificate before it
//! in place and says why.

use super::certs::{Certificates, Certified, Names};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How often the files are looked at for a change.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// Why a certificate and key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// A file could not be read or holds no PEM of the kind needed.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: PathBuf,
        /// What was wrong, in words.
        why: String,
    },
    /// The key does not sign for the certificate, or is of a kind the TLS library cannot use.
    #[error("{key} does not go with {cert}: {source}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What the TLS library said.
        source: rustls::Error,
    },
}

/// The operator's certificate and key files.
#[derive(Debug, Clone)]
pub struct GivenFiles {
    /// The certificate chain, leaf first (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

impl GivenFiles {
    /// Reads both files into a certificate ready to present.
    pub fn load(&self) -> Result<Certified, CertificateError> {
        let file = |path: &Path, why: String| CertificateError::File {
            path: path.to_owned(),
            why,
        };
        let chain = CertificateDer::pem_file_iter(&self.cert)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| file(&self.cert, format!("cannot read a PEM certificate chain: {e}")))?;
        let leaf = chain
            .first()
            .ok_or_else(|| file(&self.cert, "holds no certificate (-----BEGIN CERTIFICATE-----)".into()))?;
        let names = dns_names(leaf).map_err(|why| file(&self.cert, why))?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .map_err(|e| file(&self.key, format!("cannot read a PEM private key: {e}")))?;
        let key =
            CertifiedKey::from_der(chain, key, &super::provider()).map_err(|source| CertificateError::Mismatch {
                cert: self.cert.clone(),
                key: self.key.clone(),
                source,
            })?;
        Ok(Certified {
            key: Arc::new(key),
            names,
        })
    }

    /// When either file last changed, and their sizes: a new value means "read them again".
    fn stamp(&self) -> Option<[(SystemTime, u64); 2]> {
        let of = |path: &Path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        };
        Some([of(&self.cert)?, of(&self.key)?])
    }

    /// Puts the files' certificate into `certificates` whenever they change, until dropped (the
    /// caller's task owns it). A change that cannot be used (a key written after its
    /// certificate, a broken file) is logged and the certificate before it stays.
    pub async fn watch(self, certificates: Certificates) {
        let mut seen = self.stamp();
        let mut ticks = tokio::time::interval(LOOK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = self.stamp();
            if now == seen || now.is_none() {
                continue;
            }
            seen = now;
            let files = self.clone();
            match tokio::task::spawn_blocking(move || files.load()).await {
                Ok(Ok(given)) => {
                    tracing::info!(cert = %self.cert.display(), "the TLS certificate changed on disk; now presenting the new one");
                    certificates.set_given(given);
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the TLS certificate changed on disk but cannot be used; still presenting the one before");
                }
                Err(e) => tracing::warn!(error = %e, "reading the TLS certificate failed"),
            }
        }
    }
}

/// The DNS names of a certificate's subject alternative names.
fn dns_names(leaf: &CertificateDer<'_>) -> Result<Names, String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| format!("the first certificate cannot be parsed: {e}"))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("the certificate's subject alternative names cannot be read: {e}"))?;
    let names = Names::new(san.iter().flat_map(|san| {
        san.value.general_names.iter().filter_map(|name| match name {
            GeneralName::DNSName(name) => Some(*name),
            _ => None,
        })
    }));
    if names.is_empty() {
        return Err("the certificate names no host (no DNS subject alternative name)".into());
    }
    Ok(names)
}
