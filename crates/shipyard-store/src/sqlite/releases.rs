//! `Releases` for SQLite.

use super::Tx;
use super::rows::{convert, parse_ts, ts};
use crate::model::{NewRelease, Page, Paged, Release};
use crate::scope::TenantScope;
use crate::traits::Releases;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{DeploymentId, EnvironmentId, ProjectId, ReleaseId};

#[derive(sqlx::FromRow)]
struct ReleaseRow {
    id: String,
    project_id: String,
    environment_id: String,
    deployment_id: Option<String>,
    version: i64,
    commit_sha: String,
    status: String,
    rollback_of: Option<String>,
    artifact_available: bool,
    config: String,
    created_at: String,
    activated_at: Option<String>,
}

impl TryFrom<ReleaseRow> for Release {
    type Error = StoreError;
    fn try_from(r: ReleaseRow) -> Result<Self> {
        let config = shipyard_core::ReleaseConfig::parse(&r.config)
            .map_err(|e| StoreError::Corrupt(format!("release {}'s config: {e}", r.id)))?;
        Ok(Release {
            id: ReleaseId::from_trusted(r.id),
            project_id: ProjectId::from_trusted(r.project_id),
            environment_id: EnvironmentId::from_trusted(r.environment_id),
            deployment_id: r.deployment_id.map(DeploymentId::from_trusted),
            version: r.version,
            commit_sha: r.commit_sha,
            active: r.status == "active",
            rollback_of: r.rollback_of.map(ReleaseId::from_trusted),
            artifact_available: r.artifact_available,
            config,
            created_at: parse_ts(&r.created_at)?,
            activated_at: r.activated_at.as_deref().map(parse_ts).transpose()?,
        })
    }
}

macro_rules! release_columns {
    () => {
        "id, project_id, environment_id, deployment_id, version, commit_sha, status, rollback_of, artifact_available,
         config, created_at, activated_at"
    };
}

impl Releases for Tx {
    async fn create_release(&mut self, scope: &TenantScope, new: &NewRelease) -> Result<Release> {
        let row: ReleaseRow = sqlx::query_as(concat!(
            "INSERT INTO releases (id, tenant_id, project_id, environment_id, deployment_id, version, commit_sha, status,
                                   rollback_of, config, created_at)
             VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(version), 0) + 1 FROM releases WHERE environment_id = ?), ?,
                     'inactive', ?, ?, ?)
             RETURNING ",
            release_columns!()
        ))
        .bind(new.id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.project_id.as_str().to_owned())
        .bind(new.environment_id.as_str().to_owned())
        .bind(new.deployment_id.as_ref().map(|d| d.as_str().to_owned()))
        .bind(new.environment_id.as_str().to_owned())
        .bind(new.commit_sha.clone())
        .bind(new.rollback_of.as_ref().map(|r| r.as_str().to_owned()))
        .bind(new.config.to_stored())
        .bind(ts(Utc::now()))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Release::try_from(row)
    }

    async fn is_newer_than_active(&mut self, scope: &TenantScope, id: &ReleaseId) -> Result<bool> {
        // A release is as new as the moment it was asked for: a built one when its deployment
        // was created, a rollback when it was made; the version breaks a tie.
        const ASKED: &str = "SELECT COALESCE(d.created_at, r.created_at), r.version, r.environment_id
                             FROM releases r LEFT JOIN deployments d ON d.id = r.deployment_id
                             WHERE r.tenant_id = ?1 AND ";
        let tenant = scope.tenant_id().as_str().to_owned();
        let candidate: Option<(String, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{ASKED} r.id = ?2")))
                .bind(tenant.clone())
                .bind(id.as_str().to_owned())
                .fetch_optional(&mut *self.0)
                .await?;
        let Some((asked, version, env)) = candidate else {
            return Ok(false);
        };
        let active: Option<(String, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{ASKED} r.environment_id = ?2 AND r.status = 'active'"
        )))
        .bind(tenant)
        .bind(env)
        .fetch_optional(&mut *self.0)
        .await?;
        Ok(active.is_none_or(|(a, v, _)| (a, v) < (asked, version)))
    }

    async fn activate_release_if_newer(&mut self, scope: &TenantScope, id: &ReleaseId) -> Result<bool> {
        if !self.is_newer_than_active(scope, id).await? {
            return Ok(false);
        }
        let tenant = scope.tenant_id().as_str().to_owned();
        sqlx::query(
            "UPDATE releases SET status = 'inactive'
             WHERE tenant_id = ?1 AND status = 'active'
               AND environment_id = (SELECT environment_id FROM releases WHERE id = ?2 AND tenant_id = ?1)",
        )
        .bind(tenant.clone())
        .bind(id.as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        sqlx::query("UPDATE releases SET status = 'active', activated_at = ? WHERE tenant_id = ? AND id = ?")
            .bind(ts(Utc::now()))
            .bind(tenant)
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(true)
    }

    async fn delete_unused_release(&mut self, scope: &TenantScope, id: &ReleaseId) -> Result<()> {
        sqlx::query(
            "DELETE FROM release_secret_versions WHERE release_id =
               (SELECT id FROM releases WHERE tenant_id = ? AND id = ? AND activated_at IS NULL)",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        sqlx::query("DELETE FROM releases WHERE tenant_id = ? AND id = ? AND activated_at IS NULL")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn release(&mut self, scope: &TenantScope, id: &ReleaseId) -> Result<Option<Release>> {
        let row: Option<ReleaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            release_columns!(),
            " FROM releases WHERE tenant_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Release::try_from).transpose()
    }

    async fn active_releases(&mut self, scope: &TenantScope) -> Result<Vec<Release>> {
        let rows: Vec<ReleaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            release_columns!(),
            " FROM releases WHERE tenant_id = ? AND status = 'active'"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(Release::try_from).collect()
    }

    async fn active_release(&mut self, scope: &TenantScope, env: &EnvironmentId) -> Result<Option<Release>> {
        let row: Option<ReleaseRow> = sqlx::query_as(concat!(
            "SELECT ",
            release_columns!(),
            " FROM releases WHERE tenant_id = ? AND environment_id = ? AND status = 'active'"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(env.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Release::try_from).transpose()
    }

    async fn prune_releases(&mut self, scope: &TenantScope, env: &EnvironmentId, keep: i64) -> Result<Vec<ReleaseId>> {
        let pruned: Vec<(String,)> = sqlx::query_as(
            "UPDATE releases SET artifact_available = 0
             WHERE tenant_id = ?1 AND environment_id = ?2 AND artifact_available = 1 AND status <> 'active'
               AND id NOT IN (SELECT id FROM releases WHERE tenant_id = ?1 AND environment_id = ?2
                              ORDER BY version DESC LIMIT ?3)
             RETURNING id",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(env.as_str().to_owned())
        .bind(keep)
        .fetch_all(&mut *self.0)
        .await?;
        for (id,) in &pruned {
            sqlx::query("DELETE FROM release_secret_versions WHERE release_id = ?")
                .bind(id.clone())
                .execute(&mut *self.0)
                .await?;
        }
        // Versions of deleted secrets that no kept release needs any more can go now.
        sqlx::query(
            "DELETE FROM secret_versions WHERE id NOT IN (SELECT secret_version_id FROM release_secret_versions)
               AND secret_id IN (SELECT id FROM secrets WHERE tenant_id = ? AND deleted_at IS NOT NULL)",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        sqlx::query(
            "DELETE FROM secrets WHERE tenant_id = ? AND deleted_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM secret_versions v WHERE v.secret_id = secrets.id)",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        Ok(pruned.into_iter().map(|(id,)| ReleaseId::from_trusted(id)).collect())
    }

    async fn list_releases(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        env: Option<&EnvironmentId>,
        page: Page,
    ) -> Result<Paged<Release>> {
        const WHERE: &str = "tenant_id = ?1 AND project_id = ?2 AND (?3 IS NULL OR environment_id = ?3)";
        let env = env.map(|e| e.as_str().to_owned());
        let rows: Vec<ReleaseRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                release_columns!(),
                " FROM releases WHERE {} ORDER BY created_at DESC, version DESC LIMIT ?4 OFFSET ?5"
            ),
            WHERE
        )))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(env.clone())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM releases WHERE {WHERE}"
        )))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(env)
        .fetch_one(&mut *self.0)
        .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }
}
