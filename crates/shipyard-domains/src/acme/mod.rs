//! Certificates from an ACME CA (#39) for verified custom domains that point here: ordered as
//! jobs of the server's own, renewed a third of their lifetime before they end, retried with a
//! back-off, held under the CA's published limits by a budget of the store's, and kept (key
//! sealed) so a restart orders nothing a certificate or an order in flight already covers.

mod account;
pub mod budget;
pub mod due;
mod order;

use chrono::{TimeDelta, Utc};
use shipyard_core::SecretBox;
use shipyard_edge::tls::{Certified, Https};
use shipyard_store::{Backend, Certificate, Certificates, SqliteStore};
use shipyard_tasks::Tasks;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Let's Encrypt's production directory: the default CA.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Longest sleep between two looks at what is due.
const TICK: Duration = Duration::from_secs(30);

/// Longest an order may take from start to certificate.
const ORDER_TIMEOUT: Duration = Duration::from_secs(180);

/// Where certificates come from (`--acme-directory`, `--acme-email`, `--acme-ca-root`,
/// `--renew-before`).
#[derive(Debug, Clone)]
pub struct AcmeConfig {
    /// The CA's directory URL.
    pub directory: String,
    /// The account's contact address.
    pub email: Option<String>,
    /// The only root trusted for the CA's own HTTPS (a private CA), instead of the system's.
    pub ca_root: Option<PathBuf>,
    /// Renew once a certificate has less than this left (zero: a third of its lifetime only).
    pub renew_before: TimeDelta,
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    /// The CA answered no (a failed validation, a rate limit, CAA).
    #[error("{0}")]
    Refused(String),
    /// The CA could not be reached or its answer read.
    #[error("{0}")]
    Ca(String),
    /// The store failed.
    #[error("the store failed: {0}")]
    Store(#[from] shipyard_store::StoreError),
}

/// The certificate issuer of a server, cheap to clone.
#[derive(Clone)]
pub struct Acme {
    store: SqliteStore,
    secret_box: SecretBox,
    https: Https,
    config: Arc<AcmeConfig>,
    /// Wakes the issuer (a domain was verified or asked to be retried).
    wake: Arc<Notify>,
}

impl Acme {
    /// An issuer putting what it gets into `https`'s certificates.
    pub fn new(store: SqliteStore, secret_box: SecretBox, https: Https, config: AcmeConfig) -> Self {
        Self {
            store,
            secret_box,
            https,
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Makes `hostname` due now (its domain was verified again) and wakes the issuer.
    pub async fn retry(&self, hostname: &str) -> shipyard_store::Result<()> {
        let mut tx = self.store.write().await?;
        tx.retry_certificate(hostname).await?;
        SqliteStore::commit(tx).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Runs the issuer on `tasks` until they stop: the stored certificates are presented at
    /// once, then what is due is ordered, one hostname at a time.
    pub fn spawn(&self, tasks: &Tasks) {
        let acme = self.clone();
        tasks.spawn_until_stopping("certificates", async move {
            if let Err(e) = acme.present_stored().await {
                tracing::warn!(error = %e, "the stored certificates could not be read");
            }
            loop {
                let wait = match acme.pass().await {
                    Ok(wait) => wait,
                    Err(e) => {
                        tracing::warn!(error = %e, "the certificate issuer could not read the store");
                        TICK
                    }
                };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = acme.wake.notified() => {}
                }
            }
        });
    }

    /// Presents every stored certificate of a verified domain.
    async fn present_stored(&self) -> Result<(), AcmeError> {
        let mut tx = self.store.read().await?;
        let verified: HashSet<String> = tx.verified_hostnames().await?.into_iter().collect();
        let stored = tx.certificates().await?;
        drop(tx);
        for row in stored.iter().filter(|row| verified.contains(&row.hostname)) {
            if let Some(certified) = self.open(row) {
                self.https.certificates.set_issued(&row.hostname, certified);
            }
        }
        Ok(())
    }

    /// The stored certificate of `row`, ready to present (None, logged, when it cannot be).
    fn open(&self, row: &Certificate) -> Option<Certified> {
        let issued = row.issued.as_ref()?;
        let opened = self
            .secret_box
            .open(&issued.key_sealed, order::key_aad(&row.hostname).as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|key| Certified::from_pem(issued.chain_pem.as_bytes(), &key).map_err(|e| e.to_string()));
        match opened {
            Ok(certified) => Some(certified),
            Err(e) => {
                tracing::warn!(hostname = %row.hostname, error = %e, "a stored certificate cannot be used");
                None
            }
        }
    }

    /// One look at what is due: certificates of domains no longer verified stop being
    /// presented, and each due hostname is ordered. Returns how long to sleep.
    async fn pass(&self) -> Result<Duration, AcmeError> {
        let now = Utc::now();
        let mut tx = self.store.read().await?;
        let verified: HashSet<String> = tx.verified_hostnames().await?.into_iter().collect();
        let wanted = tx.certifiable_hostnames().await?;
        let rows: HashMap<String, Certificate> = tx
            .certificates()
            .await?
            .into_iter()
            .map(|c| (c.hostname.clone(), c))
            .collect();
        drop(tx);
        self.https.certificates.retain_issued(|host| verified.contains(host));
        let mut next = now + TimeDelta::from_std(TICK).unwrap_or(TimeDelta::seconds(30));
        for hostname in wanted {
            match due::plan(rows.get(&hostname), now, self.config.renew_before) {
                due::Plan::Wait(at) => next = next.min(at),
                due::Plan::Order => self.order(&hostname, rows.get(&hostname)).await?,
            }
        }
        Ok((next - Utc::now()).to_std().unwrap_or(Duration::ZERO))
    }

    /// Orders `hostname` within the budget, and records what came of it.
    async fn order(&self, hostname: &str, row: Option<&Certificate>) -> Result<(), AcmeError> {
        let span = tracing::info_span!("certificate order", %hostname);
        let _entered = span.enter();
        let now = Utc::now();
        let in_flight = row.is_some_and(|r| r.order_url.is_some());
        if !in_flight
            && let Err((why, until)) = budget::check(&self.store, &self.config.directory, hostname, now).await?
        {
            tracing::warn!(%why, "certificate order held back");
            return self.record_failure(hostname, &why, until).await;
        }
        let attempt = tokio::time::timeout(ORDER_TIMEOUT, self.issue(hostname)).await;
        match attempt {
            Ok(Ok((issued, certified))) => {
                let mut tx = self.store.write().await?;
                tx.store_certificate(hostname, &issued).await?;
                SqliteStore::commit(tx).await?;
                tracing::info!(not_after = %issued.not_after, "certificate issued");
                self.https.certificates.set_issued(hostname, certified);
                Ok(())
            }
            Ok(Err(AcmeError::Store(e))) => Err(AcmeError::Store(e)),
            Ok(Err(e)) => {
                let failures = row.map_or(0, |r| r.failures) + 1;
                tracing::warn!(error = %e, failures, "certificate order failed");
                self.record_failure(hostname, &e.to_string(), now + due::back_off(failures))
                    .await
            }
            Err(_) => {
                let failures = row.map_or(0, |r| r.failures) + 1;
                let why = format!("the CA did not issue within {} s", ORDER_TIMEOUT.as_secs());
                self.record_failure(hostname, &why, now + due::back_off(failures)).await
            }
        }
    }

    async fn record_failure(&self, hostname: &str, why: &str, until: chrono::DateTime<Utc>) -> Result<(), AcmeError> {
        let mut tx = self.store.write().await?;
        tx.fail_certificate(hostname, why, until).await?;
        SqliteStore::commit(tx).await?;
        Ok(())
    }
}
