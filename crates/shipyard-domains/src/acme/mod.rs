//! Certificates from an ACME CA (#39) for verified custom domains that point here: ordered as
//! jobs of the server's own, renewed a third of their lifetime before they end, retried with a
//! back-off, held under the CA's published limits by a budget of the store's, and kept (key
//! sealed) so a restart orders nothing a certificate or an order in flight already covers.

mod account;
pub mod budget;
pub mod due;
mod order;

use chrono::{TimeDelta, Utc};
use futures_util::StreamExt;
use shipyard_core::SecretBox;
use shipyard_edge::RouteTable;
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

/// Orders in flight at once, at most.
const ORDERS_AT_ONCE: usize = 8;

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
    /// Live hosts get certificates of their own too (`--acme-live-hosts`): the routed hosts of
    /// this table under this apps domain.
    pub live_hosts: Option<(RouteTable, String)>,
}

/// How long every order waits after the CA says it is rate limited (it does not say how long
/// through the library's error).
const RATE_LIMIT_PAUSE: TimeDelta = TimeDelta::hours(1);

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    /// The CA answered no (a failed validation, CAA): the order is over.
    #[error("{0}")]
    Refused(String),
    /// The CA says its limits are reached: every order waits.
    #[error("{0}")]
    RateLimited(String),
    /// The budget holds the order back until then.
    #[error("{why}")]
    Held {
        /// Which limit, and until when.
        why: String,
        /// When to try again.
        until: chrono::DateTime<Utc>,
    },
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
    /// No order is placed before then (the CA said it is rate limited).
    paused_until: Arc<std::sync::Mutex<Option<chrono::DateTime<Utc>>>>,
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
            paused_until: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// Wakes the issuer: what it presents follows the domains at once (one was deleted).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Makes `hostname` due now (its domain was verified again) and wakes the issuer.
    pub async fn retry(&self, hostname: &str) -> shipyard_store::Result<()> {
        let mut tx = self.store.write().await?;
        tx.retry_certificate(hostname).await?;
        SqliteStore::commit(tx).await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Asks for `hostname`'s certificate to be renewed now (false: it has none issued) and
    /// wakes the issuer. The certificate before it is served until the new one is stored.
    pub async fn renew(&self, hostname: &str) -> shipyard_store::Result<bool> {
        let mut tx = self.store.write().await?;
        let asked = tx.request_renewal(hostname).await?;
        SqliteStore::commit(tx).await?;
        if asked {
            self.wake.notify_one();
        }
        Ok(asked)
    }

    /// Runs the issuer on `tasks` until they stop: each pass presents the stored certificates of
    /// verified hosts and orders what is due, a few hostnames at a time.
    pub fn spawn(&self, tasks: &Tasks) {
        let acme = self.clone();
        tasks.spawn_until_stopping("certificates", async move {
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

    /// The live hosts routed now, when they get certificates of their own.
    fn live_hosts(&self) -> Vec<String> {
        let Some((routes, apps_domain)) = &self.config.live_hosts else {
            return Vec::new();
        };
        let suffix = format!(".{apps_domain}");
        routes
            .snapshot()
            .keys()
            .filter(|host| host.ends_with(&suffix))
            .cloned()
            .collect()
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
    /// Presents the stored certificates of verified domains at once: `serve` calls it before
    /// its listeners take a connection, so a restart never refuses a handshake the server
    /// before it accepted. (Live hosts follow once routed, in the first pass.)
    pub async fn present_stored(&self) -> Result<(), AcmeError> {
        let mut tx = self.store.read().await?;
        let verified: HashSet<String> = tx.verified_hostnames().await?.into_iter().collect();
        let rows = tx.certificates().await?;
        drop(tx);
        for row in rows.iter().filter(|row| verified.contains(&row.hostname)) {
            if let Some(certified) = self.open(row) {
                self.https.certificates.set_issued(&row.hostname, certified);
            }
        }
        Ok(())
    }

    async fn pass(&self) -> Result<Duration, AcmeError> {
        let now = Utc::now();
        let mut tx = self.store.read().await?;
        let mut verified: HashSet<String> = tx.verified_hostnames().await?.into_iter().collect();
        let mut wanted = tx.certifiable_hostnames().await?;
        // Live hosts point here by the operator's wildcard record: routed is enough.
        let live = self.live_hosts();
        verified.extend(live.iter().cloned());
        wanted.extend(live);
        let rows: HashMap<String, Certificate> = tx
            .certificates()
            .await?
            .into_iter()
            .map(|c| (c.hostname.clone(), c))
            .collect();
        drop(tx);
        // What is presented follows what is verified (or routed): a stored certificate is
        // presented once its host is (at start, or a live host back after a restart), and stops
        // being presented once it is not.
        self.https.certificates.retain_issued(|host| verified.contains(host));
        let presented: HashSet<String> = self.https.certificates.issued_hosts().into_iter().collect();
        for row in rows.values() {
            if verified.contains(&row.hostname)
                && !presented.contains(&row.hostname)
                && let Some(certified) = self.open(row)
            {
                self.https.certificates.set_issued(&row.hostname, certified);
            }
        }
        let mut next = now + TimeDelta::from_std(TICK).unwrap_or(TimeDelta::seconds(30));
        let paused = self
            .paused_until
            .lock()
            .ok()
            .and_then(|p| *p)
            .filter(|until| *until > now);
        if let Some(until) = paused {
            return Ok((until.min(next) - now).to_std().unwrap_or(TICK));
        }
        let mut due = Vec::new();
        for hostname in wanted {
            match due::plan(rows.get(&hostname), now, self.config.renew_before) {
                due::Plan::Wait(at) => next = next.min(at),
                due::Plan::Order => due.push(hostname),
            }
        }
        // A few at once: twenty domains verified together are served within seconds, and a
        // hostname whose validation hangs holds one place, not the whole pass. One hostname's
        // trouble (even the store's) does not hold up the others.
        let mut orders = futures_util::stream::iter(due)
            .map(|hostname| {
                let row = rows.get(&hostname);
                async move {
                    if let Err(e) = self.order(&hostname, row).await {
                        tracing::warn!(%hostname, error = %e, "a certificate order could not be recorded");
                    }
                }
            })
            .buffer_unordered(ORDERS_AT_ONCE);
        while orders.next().await.is_some() {}
        Ok((next - Utc::now()).to_std().unwrap_or(Duration::ZERO))
    }

    /// Orders `hostname` (within the budget, which a new order reserves), and records what came
    /// of it. The order runs in a task of its own, joined here, so a panic in the ACME library
    /// is one failed order, not the end of the issuer.
    async fn order(&self, hostname: &str, row: Option<&Certificate>) -> Result<(), AcmeError> {
        let span = tracing::info_span!("certificate order", %hostname);
        let now = Utc::now();
        let failures = row.map_or(0, |r| r.failures) + 1;
        let issuer = self.clone();
        let host = hostname.to_owned();
        let attempt = tokio::spawn(tracing::Instrument::instrument(
            async move { issuer.issue(&host).await },
            span,
        ));
        // Ended with this call however it ends (a timeout, the server stopping).
        let _owned = AbortOnDrop(attempt.abort_handle());
        let attempt = match tokio::time::timeout(ORDER_TIMEOUT, attempt).await {
            Ok(Ok(attempt)) => attempt,
            Ok(Err(e)) => Err(AcmeError::Ca(format!("the order stopped: {e}"))),
            Err(_) => Err(AcmeError::Ca(format!(
                "the CA did not issue within {} s",
                ORDER_TIMEOUT.as_secs()
            ))),
        };
        let (why, until, keep_order) = match attempt {
            Ok((issued, certified)) => {
                let mut tx = self.store.write().await?;
                tx.store_certificate(hostname, &issued).await?;
                SqliteStore::commit(tx).await?;
                tracing::info!(%hostname, not_after = %issued.not_after, "certificate issued");
                self.https.certificates.set_issued(hostname, certified);
                return Ok(());
            }
            Err(AcmeError::Held { why, until }) => (why, until, false),
            Err(AcmeError::RateLimited(why)) => {
                let until = now + RATE_LIMIT_PAUSE;
                if let Ok(mut paused) = self.paused_until.lock() {
                    *paused = Some(until);
                }
                (why, until, false)
            }
            Err(e @ AcmeError::Refused(_)) => (e.to_string(), now + due::back_off(failures), false),
            // The CA or the store could not be reached: the order in flight may still be taken up.
            Err(e @ (AcmeError::Ca(_) | AcmeError::Store(_))) => (e.to_string(), now + due::back_off(failures), true),
        };
        tracing::warn!(%hostname, error = %why, failures, "certificate order failed");
        self.record_failure(hostname, &why, until, keep_order).await
    }

    async fn record_failure(
        &self,
        hostname: &str,
        why: &str,
        until: chrono::DateTime<Utc>,
        keep_order: bool,
    ) -> Result<(), AcmeError> {
        let mut tx = self.store.write().await?;
        tx.fail_certificate(hostname, why, until, keep_order).await?;
        SqliteStore::commit(tx).await?;
        Ok(())
    }
}

/// Aborts a task when dropped: its owner's call ended.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
