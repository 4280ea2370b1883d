//! `Certificates` for SQLite.

use super::Tx;
use super::rows::{parse_ts, ts};
use crate::model::{Certificate, IssuedCertificate};
use crate::traits::Certificates;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};

macro_rules! certificate_columns {
    () => {
        "hostname, chain_pem, key_sealed, not_after, issued_at, order_url, error, failures, next_attempt_at, \
         renew_requested"
    };
}

#[derive(sqlx::FromRow)]
struct CertificateRow {
    hostname: String,
    chain_pem: Option<String>,
    key_sealed: Option<Vec<u8>>,
    not_after: Option<String>,
    issued_at: Option<String>,
    order_url: Option<String>,
    error: Option<String>,
    failures: i64,
    next_attempt_at: Option<String>,
    renew_requested: bool,
}

impl TryFrom<CertificateRow> for Certificate {
    type Error = StoreError;
    fn try_from(r: CertificateRow) -> Result<Self> {
        let issued = match (r.chain_pem, r.key_sealed, r.not_after, r.issued_at) {
            (Some(chain_pem), Some(key_sealed), Some(not_after), Some(issued_at)) => Some(IssuedCertificate {
                chain_pem,
                key_sealed,
                not_after: parse_ts(&not_after)?,
                issued_at: parse_ts(&issued_at)?,
            }),
            _ => None,
        };
        Ok(Certificate {
            hostname: r.hostname,
            issued,
            order_url: r.order_url,
            error: r.error,
            failures: r.failures,
            next_attempt_at: r.next_attempt_at.as_deref().map(parse_ts).transpose()?,
            renew_requested: r.renew_requested,
        })
    }
}

impl Certificates for Tx {
    async fn certificates(&mut self) -> Result<Vec<Certificate>> {
        let rows: Vec<CertificateRow> = sqlx::query_as(concat!(
            "SELECT ",
            certificate_columns!(),
            " FROM certificates ORDER BY hostname"
        ))
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(Certificate::try_from).collect()
    }

    async fn certificate(&mut self, hostname: &str) -> Result<Option<Certificate>> {
        let row: Option<CertificateRow> = sqlx::query_as(concat!(
            "SELECT ",
            certificate_columns!(),
            " FROM certificates WHERE hostname = ?"
        ))
        .bind(hostname.to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Certificate::try_from).transpose()
    }

    async fn certifiable_hostnames(&mut self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT hostname FROM domains WHERE status = 'verified' AND points_here = 1 ORDER BY hostname",
        )
        .fetch_all(&mut *self.0)
        .await?)
    }

    async fn verified_hostnames(&mut self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT hostname FROM domains WHERE status = 'verified' ORDER BY hostname")
                .fetch_all(&mut *self.0)
                .await?,
        )
    }

    async fn record_order(
        &mut self,
        directory: &str,
        hostname: &str,
        registered_domain: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // The ledger keeps a week: the longest window any budget counts.
        sqlx::query("DELETE FROM acme_orders WHERE created_at < ?")
            .bind(ts(now - chrono::TimeDelta::days(8)))
            .execute(&mut *self.0)
            .await
            .map_err(StoreError::from_write)?;
        sqlx::query("INSERT INTO acme_orders (directory, hostname, registered_domain, created_at) VALUES (?, ?, ?, ?)")
            .bind(directory.to_owned())
            .bind(hostname.to_owned())
            .bind(registered_domain.to_owned())
            .bind(ts(now))
            .execute(&mut *self.0)
            .await
            .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn begin_order(&mut self, hostname: &str, order_url: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO certificates (hostname, order_url, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (hostname) DO UPDATE SET order_url = ?2, error = NULL, updated_at = ?3",
        )
        .bind(hostname.to_owned())
        .bind(order_url.to_owned())
        .bind(ts(now))
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn store_certificate(&mut self, hostname: &str, issued: &IssuedCertificate) -> Result<()> {
        sqlx::query(
            "INSERT INTO certificates (hostname, chain_pem, key_sealed, not_after, issued_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (hostname) DO UPDATE SET chain_pem = ?2, key_sealed = ?3, \
             not_after = ?4, issued_at = ?5, updated_at = ?5, order_url = NULL, error = NULL, failures = 0, \
             next_attempt_at = NULL, renew_requested = 0",
        )
        .bind(hostname.to_owned())
        .bind(issued.chain_pem.clone())
        .bind(issued.key_sealed.clone())
        .bind(ts(issued.not_after))
        .bind(ts(issued.issued_at))
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn fail_certificate(
        &mut self,
        hostname: &str,
        error: &str,
        next_attempt_at: DateTime<Utc>,
        keep_order: bool,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO certificates (hostname, error, failures, next_attempt_at, updated_at) \
             VALUES (?1, ?2, 1, ?3, ?4) ON CONFLICT (hostname) DO UPDATE SET \
             order_url = CASE WHEN ?5 THEN order_url ELSE NULL END, error = ?2, \
             failures = failures + 1, next_attempt_at = ?3, updated_at = ?4",
        )
        .bind(hostname.to_owned())
        .bind(error.to_owned())
        .bind(ts(next_attempt_at))
        .bind(ts(Utc::now()))
        .bind(keep_order)
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn retry_certificate(&mut self, hostname: &str) -> Result<()> {
        sqlx::query("UPDATE certificates SET next_attempt_at = NULL WHERE hostname = ? AND order_url IS NULL")
            .bind(hostname.to_owned())
            .execute(&mut *self.0)
            .await
            .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn request_renewal(&mut self, hostname: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE certificates SET renew_requested = 1, next_attempt_at = NULL \
             WHERE hostname = ? AND chain_pem IS NOT NULL",
        )
        .bind(hostname.to_owned())
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(done.rows_affected() > 0)
    }

    async fn orders_since(
        &mut self,
        directory: &str,
        registered_domain: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, i64)> {
        let (all, registered): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(registered_domain = ?), 0) FROM acme_orders \
             WHERE directory = ? AND created_at >= ?",
        )
        .bind(registered_domain.to_owned())
        .bind(directory.to_owned())
        .bind(ts(since))
        .fetch_one(&mut *self.0)
        .await?;
        Ok((all, registered))
    }

    async fn acme_account(&mut self, directory: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT credentials_sealed FROM acme_accounts WHERE directory = ?")
                .bind(directory.to_owned())
                .fetch_optional(&mut *self.0)
                .await?,
        )
    }

    async fn save_acme_account(&mut self, directory: &str, sealed: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO acme_accounts (directory, credentials_sealed, created_at) VALUES (?, ?, ?) \
             ON CONFLICT (directory) DO NOTHING",
        )
        .bind(directory.to_owned())
        .bind(sealed.to_owned())
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }
}
