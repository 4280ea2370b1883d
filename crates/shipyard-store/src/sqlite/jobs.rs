//! `Jobs` for SQLite.

use super::Tx;
use super::rows::ts;
use crate::Result;
use crate::model::ClaimedJob;
use crate::scope::TenantScope;
use crate::traits::Jobs;
use chrono::{DateTime, Utc};
use shipyard_core::{DeploymentId, Role, Slug, TenantId, UserId};

/// The user a worker acts as: not a person, and never a member of anything.
const SYSTEM_USER: &str = "usr_00000000000000000000000000000000";

impl Jobs for Tx {
    async fn claim_job(&mut self, owner: &str, lease_until: DateTime<Utc>) -> Result<Option<ClaimedJob>> {
        let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?
             WHERE id = (SELECT j.id FROM jobs j WHERE j.status = 'queued'
                           AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.lane = j.lane AND r.status = 'running')
                           AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.lane = j.lane AND e.status = 'queued' AND e.id < j.id)
                         ORDER BY j.id LIMIT 1)
             RETURNING id, tenant_id, deployment_id",
        )
        .bind(owner.to_owned())
        .bind(ts(lease_until))
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(row.and_then(|(id, tenant, dep)| {
            dep.map(|d| ClaimedJob {
                id,
                tenant_id: TenantId::from_trusted(tenant),
                deployment_id: DeploymentId::from_trusted(d),
            })
        }))
    }

    async fn renew_lease(&mut self, job: i64, owner: &str, until: DateTime<Utc>) -> Result<Option<bool>> {
        let row: Option<(bool,)> = sqlx::query_as(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'
             RETURNING cancel_requested",
        )
        .bind(ts(until))
        .bind(job)
        .bind(owner.to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(row.map(|(cancel,)| cancel))
    }

    async fn finish_job(&mut self, job: i64) -> Result<()> {
        sqlx::query("UPDATE jobs SET status = 'done' WHERE id = ?")
            .bind(job)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn interrupt_jobs(&mut self, now: Option<DateTime<Utc>>, reason: &str) -> Result<u64> {
        let stale: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, deployment_id FROM jobs WHERE status = 'running' AND deployment_id IS NOT NULL
               AND (?1 IS NULL OR lease_until < ?1)",
        )
        .bind(now.map(ts))
        .fetch_all(&mut *self.0)
        .await?;
        for (job, deployment) in &stale {
            self.finish_job(*job).await?;
            let dep = DeploymentId::from_trusted(deployment.clone());
            sqlx::query(
                "UPDATE deployments SET status = 'failed', error = ?, finished_at = ?
                 WHERE id = ? AND status IN ('queued', 'building', 'deploying')",
            )
            .bind(reason.to_owned())
            .bind(ts(Utc::now()))
            .bind(deployment.clone())
            .execute(&mut *self.0)
            .await?;
            self.add_event(&dep, "failed", reason).await?;
        }
        Ok(stale.len() as u64)
    }

    async fn worker_scope(&mut self, tenant: &TenantId) -> Result<Option<TenantScope>> {
        let row: Option<(String, bool)> = sqlx::query_as("SELECT slug, suspended FROM tenants WHERE id = ?")
            .bind(tenant.as_str().to_owned())
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.map(|(slug, suspended)| {
            TenantScope::new(
                tenant.clone(),
                Slug::from_trusted(slug),
                UserId::from_trusted(SYSTEM_USER.to_owned()),
                Role::Owner,
                suspended,
            )
        }))
    }
}
