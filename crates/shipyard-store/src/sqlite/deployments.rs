//! `Deployments` for SQLite.

use super::Tx;
use super::deployment_rows::{DeploymentRow, EventRow};
use super::rows::{convert, ts};
use crate::model::{
    Deployment, DeploymentEvent, DeploymentFilter, DeploymentUpdate, NewDeployment, Page, Paged, Transition,
};
use crate::scope::TenantScope;
use crate::traits::Deployments;
use crate::{Result, StoreError};
use chrono::{DateTime, Utc};
use shipyard_core::{DeploymentId, DeploymentStatus, ProjectId};

macro_rules! deployment_columns {
    () => {
        "id, tenant_id, project_id, environment_id, number, status, branch, commit_sha, commit_message, note, trigger,
         clear_cache, error, release_id, retry_of, attempt, created_at, started_at, finished_at"
    };
}

impl Tx {
    pub(super) async fn add_event(&mut self, id: &DeploymentId, kind: &str, message: &str) -> Result<()> {
        sqlx::query("INSERT INTO deployment_events (deployment_id, at, type, message) VALUES (?, ?, ?, ?)")
            .bind(id.as_str().to_owned())
            .bind(ts(Utc::now()))
            .bind(kind.to_owned())
            .bind(message.to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}

impl Deployments for Tx {
    async fn create_deployment(&mut self, scope: &TenantScope, new: &NewDeployment) -> Result<Deployment> {
        let tenant = scope.tenant_id().as_str().to_owned();
        let number: i64 = sqlx::query_scalar(
            "INSERT INTO tenant_counters (tenant_id, deploy_seq) VALUES (?, 1)
             ON CONFLICT (tenant_id) DO UPDATE SET deploy_seq = deploy_seq + 1 RETURNING deploy_seq",
        )
        .bind(tenant.clone())
        .fetch_one(&mut *self.0)
        .await?;
        let id = DeploymentId::generate();
        let row: DeploymentRow = sqlx::query_as(concat!(
            "INSERT INTO deployments (id, tenant_id, project_id, environment_id, number, status, branch, commit_sha,
                                      commit_message, note, trigger, clear_cache, retry_of, created_at)
             VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            deployment_columns!()
        ))
        .bind(id.as_str().to_owned())
        .bind(tenant.clone())
        .bind(new.project_id.as_str().to_owned())
        .bind(new.environment_id.as_str().to_owned())
        .bind(number)
        .bind(new.branch.clone())
        .bind(new.commit_sha.clone())
        .bind(new.commit_message.clone())
        .bind(new.note.clone())
        .bind(new.trigger.as_str())
        .bind(new.clear_cache)
        .bind(new.retry_of.as_ref().map(|d| d.as_str().to_owned()))
        .bind(ts(Utc::now()))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        self.add_event(
            &id,
            "queued",
            &format!("queued by {} on branch {}", new.trigger.as_str(), new.branch),
        )
        .await?;
        sqlx::query(
            "INSERT INTO jobs (kind, tenant_id, deployment_id, lane, status, created_at) VALUES ('build', ?, ?, ?, 'queued', ?)",
        )
        .bind(tenant)
        .bind(id.as_str().to_owned())
        .bind(new.environment_id.as_str().to_owned())
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await?;
        Deployment::try_from(row)
    }

    async fn deployments_since(&mut self, scope: &TenantScope, since: DateTime<Utc>) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM deployments WHERE tenant_id = ? AND created_at >= ?")
                .bind(scope.tenant_id().as_str().to_owned())
                .bind(ts(since))
                .fetch_one(&mut *self.0)
                .await?,
        )
    }

    async fn deploy_quota(&mut self, scope: &TenantScope) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT deploys_per_day FROM tenants WHERE id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?)
    }

    async fn memory_mb_limit(&mut self, scope: &TenantScope) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT memory_mb_limit FROM tenants WHERE id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?)
    }

    async fn storage_gb_limit(&mut self, scope: &TenantScope) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT storage_gb_limit FROM tenants WHERE id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?)
    }

    async fn deployment(&mut self, scope: &TenantScope, id: &DeploymentId) -> Result<Option<Deployment>> {
        let row: Option<DeploymentRow> = sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE tenant_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Deployment::try_from).transpose()
    }

    async fn deployment_by_number(&mut self, scope: &TenantScope, number: i64) -> Result<Option<Deployment>> {
        let row: Option<DeploymentRow> = sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE tenant_id = ? AND number = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(number)
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Deployment::try_from).transpose()
    }

    async fn list_deployments(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        filter: &DeploymentFilter,
        page: Page,
    ) -> Result<Paged<Deployment>> {
        const WHERE: &str = "tenant_id = ?1 AND project_id = ?2 AND (?3 IS NULL OR environment_id = ?3)
                             AND (?4 IS NULL OR status = ?4)";
        let env = filter.environment_id.as_ref().map(|e| e.as_str().to_owned());
        let status = filter.status.map(DeploymentStatus::as_str);
        let rows: Vec<DeploymentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                deployment_columns!(),
                " FROM deployments WHERE {} ORDER BY number DESC LIMIT ?5 OFFSET ?6"
            ),
            WHERE
        )))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(env.clone())
        .bind(status)
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM deployments WHERE {WHERE}"
        )))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(env)
        .bind(status)
        .fetch_one(&mut *self.0)
        .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn latest_deployments(&mut self, scope: &TenantScope) -> Result<Vec<Deployment>> {
        let rows: Vec<DeploymentRow> = sqlx::query_as(concat!(
            "SELECT ",
            deployment_columns!(),
            " FROM deployments WHERE tenant_id = ?1 AND number IN
               (SELECT MAX(number) FROM deployments WHERE tenant_id = ?1 GROUP BY environment_id)"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn deployment_events(&mut self, scope: &TenantScope, id: &DeploymentId) -> Result<Vec<DeploymentEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT e.at, e.type, e.message FROM deployment_events e JOIN deployments d ON d.id = e.deployment_id
             WHERE d.tenant_id = ? AND d.id = ? ORDER BY e.id",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn update_deployment(
        &mut self,
        scope: &TenantScope,
        id: &DeploymentId,
        update: &DeploymentUpdate,
        event: &str,
    ) -> Result<Option<Transition>> {
        let now = ts(Utc::now());
        let status = update.status.map(DeploymentStatus::as_str);
        let started = (update.status == Some(DeploymentStatus::Building)).then(|| now.clone());
        let finished = update
            .status
            .is_some_and(DeploymentStatus::is_terminal)
            .then(|| now.clone());
        // The guard: the statuses the new one may come from (a field-only change needs a
        // deployment that has not ended), and a requested cancel wins over all but an end.
        let sources = match update.status {
            Some(next) => next.sources(),
            None => &[
                DeploymentStatus::Queued,
                DeploymentStatus::Building,
                DeploymentStatus::Deploying,
            ][..],
        };
        let sources = sources
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let cancel_wins = !matches!(
            update.status,
            Some(DeploymentStatus::Failed | DeploymentStatus::Canceled)
        );
        let applied = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE deployments SET status = COALESCE(?1, status), commit_sha = COALESCE(?2, commit_sha),
                    commit_message = COALESCE(?3, commit_message), error = COALESCE(?4, error),
                    release_id = COALESCE(?5, release_id), started_at = COALESCE(started_at, ?6),
                    finished_at = COALESCE(?7, finished_at)
             WHERE tenant_id = ?8 AND id = ?9 AND status IN ({sources}) AND (?10 IS NULL OR attempt = ?10)
               AND (?11 = 0 OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.deployment_id = ?9 AND j.cancel_requested = 1))"
        )))
        .bind(status)
        .bind(update.commit_sha.clone())
        .bind(update.commit_message.clone())
        .bind(update.error.clone())
        .bind(update.release_id.as_ref().map(|r| r.as_str().to_owned()))
        .bind(started)
        .bind(finished)
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .bind(update.attempt)
        .bind(cancel_wins)
        .execute(&mut *self.0)
        .await?
        .rows_affected()
            == 1;
        if applied {
            self.add_event(id, status.unwrap_or("note"), event).await?;
        }
        let Some(now) = self.deployment(scope, id).await? else {
            return Ok(None);
        };
        Ok(Some(if applied {
            Transition::Applied(now)
        } else {
            Transition::Lost(now)
        }))
    }

    async fn fail_after_go_live(
        &mut self,
        scope: &TenantScope,
        id: &DeploymentId,
        error: &str,
        event: &str,
    ) -> Result<bool> {
        let applied = sqlx::query(
            "UPDATE deployments SET status = 'failed', error = ? WHERE tenant_id = ? AND id = ? AND status = 'ready'",
        )
        .bind(error.to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .execute(&mut *self.0)
        .await?
        .rows_affected()
            == 1;
        if applied {
            self.add_event(id, event, error).await?;
        }
        Ok(applied)
    }

    async fn request_cancel(&mut self, scope: &TenantScope, id: &DeploymentId) -> Result<bool> {
        let Some(dep) = self.deployment(scope, id).await? else {
            return Ok(false);
        };
        sqlx::query("UPDATE jobs SET cancel_requested = 1 WHERE deployment_id = ? AND status IN ('queued', 'running')")
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        if dep.status != DeploymentStatus::Queued {
            self.add_event(id, "note", "cancel requested").await?;
            return Ok(false);
        }
        // No build has started: end it now. A worker that has just claimed the job loses its
        // move to `building` and lets the job go.
        sqlx::query("UPDATE jobs SET status = 'done' WHERE deployment_id = ? AND status = 'queued'")
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        let update = DeploymentUpdate {
            status: Some(DeploymentStatus::Canceled),
            ..DeploymentUpdate::default()
        };
        let ended = self
            .update_deployment(scope, id, &update, "canceled before it started")
            .await?;
        Ok(ended.is_some_and(|t| t.applied()))
    }
}
