//! Certificates of hostnames, the CA account and the ledger of orders (#39).

use crate::Result;
use crate::model::{Certificate, IssuedCertificate};
use chrono::{DateTime, Utc};
use std::future::Future;

/// Certificates and what ACME needs kept.
pub trait Certificates {
    /// Every hostname's certificate row.
    fn certificates(&mut self) -> impl Future<Output = Result<Vec<Certificate>>> + Send;
    /// One hostname's, if it has a row.
    fn certificate(&mut self, hostname: &str) -> impl Future<Output = Result<Option<Certificate>>> + Send;
    /// Hostnames of verified domains that point here: the ones that should have a certificate.
    fn certifiable_hostnames(&mut self) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Hostnames of verified domains (whose certificates may be served).
    fn verified_hostnames(&mut self) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// Adds an order about to be placed for `hostname` to the ledger (before the CA is asked:
    /// an order is counted even when what follows fails).
    fn record_order(
        &mut self,
        directory: &str,
        hostname: &str,
        registered_domain: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Records the order in flight for `hostname` at `order_url` (its last error is cleared).
    fn begin_order(
        &mut self,
        hostname: &str,
        order_url: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Stores an issued certificate; the order, error and failures are cleared.
    fn store_certificate(
        &mut self,
        hostname: &str,
        issued: &IssuedCertificate,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Records a failed attempt and when to try again; the order in flight ends with it unless
    /// `keep_order` (the CA could not be reached: the order may still be taken up).
    fn fail_certificate(
        &mut self,
        hostname: &str,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        keep_order: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Makes a failed hostname due now (its owner asked again, e.g. by verifying its domain).
    fn retry_certificate(&mut self, hostname: &str) -> impl Future<Output = Result<()>> + Send;
    /// Asks for `hostname`'s certificate to be renewed now; false when it has none issued.
    fn request_renewal(&mut self, hostname: &str) -> impl Future<Output = Result<bool>> + Send;
    /// Orders of `directory` since `since`: all of them, and those of `registered_domain`.
    fn orders_since(
        &mut self,
        directory: &str,
        registered_domain: &str,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<(i64, i64)>> + Send;
    /// The sealed credentials of the account at `directory`.
    fn acme_account(&mut self, directory: &str) -> impl Future<Output = Result<Option<Vec<u8>>>> + Send;
    /// Keeps the sealed credentials of a new account at `directory` (the first kept wins).
    fn save_acme_account(&mut self, directory: &str, sealed: &[u8]) -> impl Future<Output = Result<()>> + Send;
}
