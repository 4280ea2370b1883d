//! `Jobs` for SQLite.

use super::Tx;
use super::rows::ts;
use crate::Result;
use crate::StoreError;
use crate::model::{ClaimedJob, DeploymentUpdate, InterruptedJob};
use crate::scope::TenantScope;
use crate::traits::{Deployments, Jobs};
use chrono::{DateTime, Utc};
use shipyard_core::{DeploymentId, DeploymentStatus, ProjectId, Role, Slug, TenantId, UserId};

/// The user a worker acts as: not a person, and never a member of anything.
const SYSTEM_USER: &str = "usr_00000000000000000000000000000000";

impl Jobs for Tx {
    async fn claim_job(&mut self, lease: &str, lease_until: DateTime<Utc>) -> Result<Option<ClaimedJob>> {
        let row: Option<(i64, String, Option<String>)> = sqlx::query_as(
            "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?
             WHERE id = (SELECT j.id FROM jobs j WHERE j.status = 'queued'
                           AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.lane = j.lane AND r.status = 'running')
                           AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.lane = j.lane AND e.status = 'queued' AND e.id < j.id)
                         ORDER BY j.id LIMIT 1)
             RETURNING id, tenant_id, deployment_id",
        )
        .bind(lease.to_owned())
        .bind(ts(lease_until))
        .fetch_optional(&mut *self.0)
        .await?;
        let Some((id, tenant, Some(dep))) = row else {
            return Ok(None);
        };
        let attempt: i64 = sqlx::query_scalar("SELECT attempt FROM deployments WHERE id = ?")
            .bind(dep.clone())
            .fetch_optional(&mut *self.0)
            .await?
            .unwrap_or(1);
        Ok(Some(ClaimedJob {
            id,
            tenant_id: TenantId::from_trusted(tenant),
            deployment_id: DeploymentId::from_trusted(dep),
            lease: lease.to_owned(),
            attempt,
        }))
    }

    async fn renew_lease(&mut self, job: i64, lease: &str, until: DateTime<Utc>) -> Result<Option<bool>> {
        let row: Option<(bool,)> = sqlx::query_as(
            "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'
             RETURNING cancel_requested",
        )
        .bind(ts(until))
        .bind(job)
        .bind(lease.to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(row.map(|(cancel,)| cancel))
    }

    async fn finish_job(&mut self, job: i64, lease: &str) -> Result<()> {
        sqlx::query("UPDATE jobs SET status = 'done' WHERE id = ? AND lease_owner = ? AND status = 'running'")
            .bind(job)
            .bind(lease.to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn interrupt_jobs(&mut self, now: Option<DateTime<Utc>>, reason: &str) -> Result<Vec<InterruptedJob>> {
        let stale: Vec<(i64, String, String, bool)> = sqlx::query_as(
            "SELECT id, tenant_id, deployment_id, cancel_requested FROM jobs
             WHERE status = 'running' AND deployment_id IS NOT NULL AND (?1 IS NULL OR lease_until < ?1)",
        )
        .bind(now.map(ts))
        .fetch_all(&mut *self.0)
        .await?;
        let mut out = Vec::with_capacity(stale.len());
        for (job, tenant, deployment, cancel) in stale {
            let dep = DeploymentId::from_trusted(deployment);
            let Some(scope) = self.worker_scope(&TenantId::from_trusted(tenant)).await? else {
                continue;
            };
            let Some(current) = self.deployment(&scope, &dep).await? else {
                continue;
            };
            let requeue = !cancel && current.attempt < 2 && !current.status.is_terminal();
            if requeue {
                sqlx::query("UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_until = NULL WHERE id = ?")
                    .bind(job)
                    .execute(&mut *self.0)
                    .await?;
                // Straight to the queue as attempt 2: the status may already be `queued` when the
                // worker was taken in the moment after its claim.
                sqlx::query(
                    "UPDATE deployments SET status = 'queued', attempt = 2
                     WHERE id = ? AND status IN ('queued', 'building', 'deploying')",
                )
                .bind(dep.as_str().to_owned())
                .execute(&mut *self.0)
                .await?;
                self.add_event(&dep, "queued", &format!("queued again after: {reason}"))
                    .await?;
            } else {
                sqlx::query("UPDATE jobs SET status = 'done' WHERE id = ?")
                    .bind(job)
                    .execute(&mut *self.0)
                    .await?;
                let (status, error) = if cancel {
                    (
                        DeploymentStatus::Canceled,
                        "canceled while its build was interrupted".to_owned(),
                    )
                } else {
                    (DeploymentStatus::Failed, reason.to_owned())
                };
                let update = DeploymentUpdate {
                    status: Some(status),
                    error: Some(error.clone()),
                    ..DeploymentUpdate::default()
                };
                self.update_deployment(&scope, &dep, &update, &error).await?;
            }
            out.push(InterruptedJob {
                deployment_id: dep,
                requeued: requeue,
            });
        }
        Ok(out)
    }

    async fn storage_owners(&mut self) -> Result<crate::model::StorageOwners> {
        let limits: Vec<(String, i64)> = sqlx::query_as("SELECT id, storage_gb_limit FROM tenants")
            .fetch_all(&mut *self.0)
            .await?;
        let projects: Vec<(String, String)> = sqlx::query_as("SELECT id, tenant_id FROM projects")
            .fetch_all(&mut *self.0)
            .await?;
        let releases: Vec<(String, String)> = sqlx::query_as("SELECT id, tenant_id FROM releases")
            .fetch_all(&mut *self.0)
            .await?;
        Ok(crate::model::StorageOwners {
            limits: limits.into_iter().collect(),
            projects: projects.into_iter().collect(),
            releases: releases.into_iter().collect(),
        })
    }

    async fn sandbox_uid(&mut self, project: &ProjectId, range: std::ops::RangeInclusive<u32>) -> Result<u32> {
        self.uid_for(project.as_str(), range).await
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

impl Tx {
    /// The uid `owner` (a project or a database) runs as: its own row, else the lowest free
    /// one of `range`. A project's row is never deleted; a database's goes only with the
    /// database, once nothing on the host is owned by its uid.
    pub(super) async fn uid_for(&mut self, owner: &str, range: std::ops::RangeInclusive<u32>) -> Result<u32> {
        let mine: Option<(i64,)> = sqlx::query_as("SELECT uid FROM sandbox_uids WHERE project_id = ?")
            .bind(owner.to_owned())
            .fetch_optional(&mut *self.0)
            .await?;
        let (first, last) = (*range.start(), *range.end());
        if let Some((uid,)) = mine {
            return u32::try_from(uid).map_err(|_| StoreError::Corrupt(format!("sandbox uid {uid}")));
        }
        let (next,): (i64,) = sqlx::query_as(
            "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM sandbox_uids WHERE uid = ?1) THEN ?1 \
             ELSE (SELECT MIN(u.uid + 1) FROM sandbox_uids u WHERE u.uid BETWEEN ?1 AND ?2 \
             AND NOT EXISTS (SELECT 1 FROM sandbox_uids v WHERE v.uid = u.uid + 1)) END",
        )
        .bind(i64::from(first))
        .bind(i64::from(last))
        .fetch_one(&mut *self.0)
        .await?;
        if next > i64::from(last) {
            return Err(StoreError::UidsExhausted { first, last });
        }
        sqlx::query("INSERT INTO sandbox_uids (uid, project_id, created_at) VALUES (?, ?, ?)")
            .bind(next)
            .bind(owner.to_owned())
            .bind(ts(Utc::now()))
            .execute(&mut *self.0)
            .await
            .map_err(StoreError::from_write)?;
        u32::try_from(next).map_err(|_| StoreError::Corrupt(format!("sandbox uid {next}")))
    }
}
