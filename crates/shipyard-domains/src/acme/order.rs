//! One hostname's order: HTTP-01 challenges answered by the edge, the order finalised with a
//! key made here, the chain fetched. An order in flight is recorded before anything is asked of
//! the CA, so a restart takes it up again instead of ordering anew.

use super::budget::reserve;
use super::{Acme, AcmeError};
use chrono::Utc;
use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewOrder, Order, OrderStatus, RetryPolicy,
};
use shipyard_edge::tls::Certified;
use shipyard_store::{Backend, Certificates, IssuedCertificate, SqliteStore};
use std::time::Duration;

/// How long the CA has to validate and to issue (pebble: a second; Let's Encrypt: seconds).
const POLL: RetryPolicy = RetryPolicy::new()
    .initial_delay(Duration::from_millis(250))
    .backoff(1.5)
    .timeout(Duration::from_secs(90));

/// The tokens an order put up, taken down when it ends however it ends.
struct Posted<'a> {
    acme: &'a Acme,
    tokens: Vec<String>,
}

impl Drop for Posted<'_> {
    fn drop(&mut self) {
        for token in &self.tokens {
            self.acme.https.challenges.remove(token);
        }
    }
}

impl Acme {
    /// Gets `hostname` a certificate: the order in flight for it (after a restart) or a new one.
    pub(super) async fn issue(&self, hostname: &str) -> Result<(IssuedCertificate, Certified), AcmeError> {
        let account = self.account().await?;
        let in_flight = self
            .store
            .read()
            .await?
            .certificate(hostname)
            .await?
            .and_then(|c| c.order_url);
        let mut order = match in_flight {
            Some(url) => {
                let mut order = account.order(url.clone()).await.map_err(ca)?;
                match order.state().status {
                    OrderStatus::Pending | OrderStatus::Ready => order,
                    // Failed at the CA meanwhile: its failure is recorded, and the next try
                    // orders anew.
                    OrderStatus::Invalid => return Err(AcmeError::Refused(why_invalid(&mut order).await)),
                    // Finalised with a key that went with the restart: it cannot be used.
                    _ => {
                        return Err(AcmeError::Refused(
                            "the order was finalised before a restart and its key was not kept; ordering anew".into(),
                        ));
                    }
                }
            }
            None => self.new_order(&account, hostname).await?,
        };
        let mut posted = Posted {
            acme: self,
            tokens: Vec::new(),
        };
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization.map_err(ca)?;
            match authorization.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => return Err(AcmeError::Refused(format!("the CA's authorization is {other:?}"))),
            }
            let mut challenge = authorization
                .challenge(ChallengeType::Http01)
                .ok_or_else(|| AcmeError::Refused("the CA offers no HTTP-01 challenge".into()))?;
            self.https
                .challenges
                .insert(&challenge.token, challenge.key_authorization().as_str());
            posted.tokens.push(challenge.token.clone());
            challenge.set_ready().await.map_err(ca)?;
        }
        let status = order.poll_ready(&POLL).await.map_err(ca)?;
        if status != OrderStatus::Ready {
            return Err(AcmeError::Refused(why_invalid(&mut order).await));
        }
        drop(posted);
        let key_pem = order.finalize().await.map_err(ca)?;
        let chain_pem = order.poll_certificate(&POLL).await.map_err(ca)?;
        let certified = Certified::from_pem(chain_pem.as_bytes(), key_pem.as_bytes())
            .map_err(|e| AcmeError::Refused(format!("the CA's certificate cannot be used: {e}")))?;
        let issued = IssuedCertificate {
            chain_pem,
            key_sealed: self.secret_box.seal(key_pem.as_bytes(), key_aad(hostname).as_bytes()),
            issued_at: Utc::now(),
            not_after: certified.not_after,
        };
        Ok((issued, certified))
    }

    /// Places a new order for `hostname`: counted in the budget's ledger before the CA is asked,
    /// recorded as in flight before its first challenge.
    async fn new_order(&self, account: &Account, hostname: &str) -> Result<Order, AcmeError> {
        if let Err((why, until)) = reserve(&self.store, &self.config.directory, hostname, Utc::now()).await? {
            return Err(AcmeError::Held { why, until });
        }
        let identifiers = [Identifier::Dns(hostname.to_owned())];
        let order = account.new_order(&NewOrder::new(&identifiers)).await.map_err(ca)?;
        let mut tx = self.store.write().await?;
        tx.begin_order(hostname, order.url(), Utc::now()).await?;
        SqliteStore::commit(tx).await?;
        Ok(order)
    }
}

/// What a certificate's key is sealed to: its hostname's row.
pub(super) fn key_aad(hostname: &str) -> String {
    format!("certificate-key:{hostname}")
}

/// Why the CA declared an order invalid: its own error, else the first failed challenge's.
async fn why_invalid(order: &mut Order) -> String {
    if let Some(problem) = &order.state().error {
        return describe(problem);
    }
    let mut authorizations = order.authorizations();
    while let Some(Ok(authorization)) = authorizations.next().await {
        for challenge in &authorization.challenges {
            if let Some(problem) = &challenge.error {
                return describe(problem);
            }
        }
    }
    "the CA declared the order invalid without saying why".into()
}

/// A CA's problem document in words.
fn describe(problem: &instant_acme::Problem) -> String {
    let detail = problem.detail.as_deref().unwrap_or("no detail given");
    match problem.r#type.as_deref().and_then(|t| t.rsplit(':').next()) {
        Some("rateLimited") => format!("rate limited by the CA: {detail}"),
        Some("caa") => format!("a CAA record forbids the CA: {detail}"),
        Some("connection") => format!("the CA could not reach the domain: {detail}"),
        _ => format!("the CA refused: {detail}"),
    }
}

/// An ACME library error as this module reports it.
fn ca(e: instant_acme::Error) -> AcmeError {
    match e {
        instant_acme::Error::Api(problem) if problem.r#type.as_deref().is_some_and(|t| t.ends_with(":rateLimited")) => {
            AcmeError::RateLimited(describe(&problem))
        }
        instant_acme::Error::Api(problem) => AcmeError::Refused(describe(&problem)),
        instant_acme::Error::Timeout(_) => AcmeError::Ca("the CA did not finish in 90 s".into()),
        other => AcmeError::Ca(format!("talking to the CA failed: {other}")),
    }
}
