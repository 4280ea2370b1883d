//! Certificates of hostnames as stored (#39).

use chrono::{DateTime, Utc};

/// A hostname's certificate and where getting (or renewing) it stands.
#[derive(Debug, Clone, Default)]
pub struct Certificate {
    /// ASCII, lowercase, no root dot.
    pub hostname: String,
    /// The certificate served (PEM, leaf first) with its sealed key and expiry, once issued.
    pub issued: Option<IssuedCertificate>,
    /// An order in flight.
    pub order_url: Option<String>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// Failed attempts since the last success.
    pub failures: i64,
    /// When to try again after a failure.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// An admin asked for a renewal now.
    pub renew_requested: bool,
}

/// A certificate the CA issued.
#[derive(Debug, Clone)]
pub struct IssuedCertificate {
    /// The chain, leaf first (PEM).
    pub chain_pem: String,
    /// Its private key, sealed with the secret box.
    pub key_sealed: Vec<u8>,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
    /// When it expires.
    pub not_after: DateTime<Utc>,
}
