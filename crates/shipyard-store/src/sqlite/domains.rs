//! `Domains` for SQLite.

use super::Tx;
use super::rows::{convert, parse_ts, ts};
use crate::model::{DnsLook, Domain, DueDomain, NewDomain};
use crate::scope::TenantScope;
use crate::traits::Domains;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use shipyard_core::custom_domain::DomainStatus;
use shipyard_core::{DomainId, EnvironmentId, ProjectId, TenantId};

macro_rules! domain_columns {
    () => {
        "id, tenant_id, project_id, environment_id, hostname, status, challenge, error, created_at, verified_at, \
         dns_observed, points_here, dns_error, checked_at, proof_missing_since"
    };
}

#[derive(sqlx::FromRow)]
struct DomainRow {
    id: String,
    tenant_id: String,
    project_id: String,
    environment_id: String,
    hostname: String,
    status: String,
    challenge: String,
    error: Option<String>,
    created_at: String,
    verified_at: Option<String>,
    dns_observed: String,
    points_here: bool,
    dns_error: Option<String>,
    checked_at: Option<String>,
    proof_missing_since: Option<String>,
}

#[derive(sqlx::FromRow)]
struct DueRow {
    #[sqlx(flatten)]
    domain: DomainRow,
    host_label: String,
    slug: String,
}

impl TryFrom<DomainRow> for Domain {
    type Error = StoreError;
    fn try_from(r: DomainRow) -> Result<Self> {
        Ok(Domain {
            status: DomainStatus::parse(&r.status)
                .ok_or_else(|| StoreError::Corrupt(format!("domain status `{}`", r.status)))?,
            created_at: parse_ts(&r.created_at)?,
            verified_at: r.verified_at.as_deref().map(parse_ts).transpose()?,
            id: DomainId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            project_id: ProjectId::from_trusted(r.project_id),
            environment_id: EnvironmentId::from_trusted(r.environment_id),
            hostname: r.hostname,
            challenge: r.challenge,
            error: r.error,
            dns: DnsLook {
                observed: serde_json::from_str(&r.dns_observed)
                    .map_err(|e| StoreError::Corrupt(format!("domain records: {e}")))?,
                points_here: r.points_here,
                error: r.dns_error,
                checked_at: r.checked_at.as_deref().map(parse_ts).transpose()?,
            },
            proof_missing_since: r.proof_missing_since.as_deref().map(parse_ts).transpose()?,
        })
    }
}

impl Domains for Tx {
    async fn create_domain(&mut self, scope: &TenantScope, new: &NewDomain) -> Result<Domain> {
        let row: DomainRow = sqlx::query_as(concat!(
            "INSERT INTO domains (id, tenant_id, project_id, environment_id, hostname, status, challenge, created_at, \
             next_check_at) VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7) RETURNING ",
            domain_columns!()
        ))
        .bind(new.id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.project_id.as_str().to_owned())
        .bind(new.environment_id.as_str().to_owned())
        .bind(new.hostname.clone())
        .bind(new.challenge.clone())
        .bind(ts(Utc::now()))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Domain::try_from(row)
    }

    async fn list_domains(&mut self, scope: &TenantScope, project: &ProjectId) -> Result<Vec<Domain>> {
        let rows: Vec<DomainRow> = sqlx::query_as(concat!(
            "SELECT ",
            domain_columns!(),
            " FROM domains WHERE tenant_id = ? AND project_id = ? ORDER BY id"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn domain(&mut self, scope: &TenantScope, project: &ProjectId, id: &DomainId) -> Result<Option<Domain>> {
        let row: Option<DomainRow> = sqlx::query_as(concat!(
            "SELECT ",
            domain_columns!(),
            " FROM domains WHERE tenant_id = ? AND project_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Domain::try_from).transpose()
    }

    async fn verify_domain(&mut self, scope: &TenantScope, id: &DomainId) -> Result<Option<Domain>> {
        let row: Option<DomainRow> = sqlx::query_as(concat!(
            "UPDATE domains SET status = 'verified', error = NULL, verified_at = COALESCE(verified_at, ?), \
             proof_missing_since = NULL \
             WHERE tenant_id = ? AND id = ? RETURNING ",
            domain_columns!()
        ))
        .bind(ts(Utc::now()))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        row.map(Domain::try_from).transpose()
    }

    async fn fail_domain(&mut self, scope: &TenantScope, id: &DomainId, error: &str) -> Result<Option<Domain>> {
        let row: Option<DomainRow> = sqlx::query_as(concat!(
            "UPDATE domains SET status = CASE WHEN status = 'verified' THEN status ELSE 'failed' END, \
             error = CASE WHEN status = 'verified' THEN error ELSE ? END WHERE tenant_id = ? AND id = ? RETURNING ",
            domain_columns!()
        ))
        .bind(error.to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Domain::try_from).transpose()
    }

    async fn count_domains(&mut self, scope: &TenantScope) -> Result<i64> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM domains WHERE tenant_id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?;
        Ok(count)
    }

    async fn record_dns(
        &mut self,
        id: &DomainId,
        look: &DnsLook,
        next_check_at: DateTime<Utc>,
    ) -> Result<Option<Domain>> {
        let observed =
            serde_json::to_string(&look.observed).map_err(|e| StoreError::Corrupt(format!("domain records: {e}")))?;
        let row: Option<DomainRow> = sqlx::query_as(concat!(
            "UPDATE domains SET dns_observed = ?1, points_here = ?2, dns_error = ?3, checked_at = ?4, next_check_at = ?5 \
             WHERE id = ?6 AND (checked_at IS NULL OR checked_at <= ?4) RETURNING ",
            domain_columns!()
        ))
        .bind(observed)
        .bind(look.points_here)
        .bind(look.error.clone())
        .bind(look.checked_at.map(ts))
        .bind(ts(next_check_at))
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Domain::try_from).transpose()
    }

    async fn record_proof(
        &mut self,
        id: &DomainId,
        missing: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Domain>> {
        let row: Option<DomainRow> = sqlx::query_as(concat!(
            "UPDATE domains SET proof_missing_since = CASE WHEN ?1 IS NULL THEN NULL \
             ELSE COALESCE(proof_missing_since, ?2) END, error = ?1 \
             WHERE id = ?3 AND status = 'verified' RETURNING ",
            domain_columns!()
        ))
        .bind(missing.map(str::to_owned))
        .bind(ts(now))
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Domain::try_from).transpose()
    }

    async fn lapse_domain(&mut self, id: &DomainId, error: &str) -> Result<Option<Domain>> {
        let row: Option<DomainRow> = sqlx::query_as(concat!(
            "UPDATE domains SET status = 'failed', error = ?, verified_at = NULL, proof_missing_since = NULL \
             WHERE id = ? AND status = 'verified' RETURNING ",
            domain_columns!()
        ))
        .bind(error.to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Domain::try_from).transpose()
    }

    async fn due_domains(&mut self, now: DateTime<Utc>, limit: i64) -> Result<Vec<DueDomain>> {
        let rows: Vec<DueRow> = sqlx::query_as(concat!(
            "SELECT d.*, e.host_label, t.slug FROM (SELECT ",
            domain_columns!(),
            " FROM domains WHERE next_check_at IS NOT NULL AND next_check_at <= ? \
             ORDER BY next_check_at, id LIMIT ?) d \
             JOIN environments e ON e.id = d.environment_id JOIN tenants t ON t.id = d.tenant_id"
        ))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DueDomain {
                    domain: Domain::try_from(r.domain)?,
                    host_label: r.host_label,
                    workspace_slug: r.slug,
                })
            })
            .collect()
    }

    async fn delete_domain(&mut self, scope: &TenantScope, id: &DomainId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM domains WHERE tenant_id = ? AND id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
