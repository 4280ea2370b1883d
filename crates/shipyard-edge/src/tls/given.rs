//! The operator's own certificate (`--tls-cert`, `--tls-key`): PEM files read at start and
//! again whenever they change, so a renewal done outside Shipyard (certbot, a company's CA)
//! takes effect without a restart. A file that cannot be used keeps the certificate before it
//! in place and says why.

use super::certs::{Certificates, Certified, PemError};
use std::path::{Path, PathBuf};
use std::time::Duration;

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

/// The two files' contents, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenPem {
    cert: Vec<u8>,
    key: Vec<u8>,
}

impl GivenFiles {
    /// Reads both files.
    pub fn read(&self) -> Result<GivenPem, CertificateError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| CertificateError::File {
                path: path.to_owned(),
                why: format!("cannot be read: {e}"),
            })
        };
        Ok(GivenPem {
            cert: read(&self.cert)?,
            key: read(&self.key)?,
        })
    }

    /// The certificate ready to present that `pem` (read from these files) holds.
    pub fn parse(&self, pem: &GivenPem) -> Result<Certified, CertificateError> {
        Certified::from_pem(&pem.cert, &pem.key).map_err(|e| match e {
            PemError::Cert(why) => CertificateError::File {
                path: self.cert.clone(),
                why,
            },
            PemError::Key(why) => CertificateError::File {
                path: self.key.clone(),
                why,
            },
            PemError::Mismatch(source) => CertificateError::Mismatch {
                cert: self.cert.clone(),
                key: self.key.clone(),
                source,
            },
        })
    }

    /// Puts the files' certificate into `certificates` whenever their contents change from
    /// `seen` (what the certificate presented now was read from), until dropped (the caller's
    /// task owns it). Contents, not times, are compared: a copy that keeps the times (`cp -p`,
    /// rsync) is noticed too. A change that cannot be used (a key written after its
    /// certificate, a broken file) is logged and the certificate before it stays; the next
    /// change is tried again.
    pub async fn watch(self, certificates: Certificates, mut seen: GivenPem) {
        let mut ticks = tokio::time::interval(LOOK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let files = self.clone();
            // Unchanged contents are not parsed again: only a change costs more than two reads.
            let unchanged = seen.clone();
            let read = tokio::task::spawn_blocking(move || {
                let pem = files.read()?;
                let parsed = (pem != unchanged).then(|| files.parse(&pem));
                Ok::<_, CertificateError>((pem, parsed))
            });
            // A file missing for a moment (renamed into place) is looked at again next time.
            let Ok(Ok((pem, Some(parsed)))) = read.await else {
                continue;
            };
            seen = pem;
            match parsed {
                Ok(given) => {
                    tracing::info!(cert = %self.cert.display(), "the TLS certificate changed on disk; now presenting the new one");
                    certificates.set_given(given);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the TLS certificate changed on disk but cannot be used; still presenting the one before");
                }
            }
        }
    }
}
