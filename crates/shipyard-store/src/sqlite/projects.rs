//! `Projects` for SQLite.

use super::Tx;
use super::project_rows::{ProjectRow, to_json};
use super::rows::{convert, ts};
use crate::model::{NewEnvironment, NewProject, Page, Paged, Project, ProjectFilter, ProjectPatch};
use crate::scope::TenantScope;
use crate::traits::{Environments, Projects};
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{DeploymentId, EnvironmentId, ProjectId, ReleaseId};

macro_rules! project_columns {
    () => {
        "id, tenant_id, name, slug, description, type, status, repository_connection_id, build_config, runtime_config,
         detection, created_at, updated_at"
    };
}

/// `WHERE` for the list filters; `?` placeholders in the order `list_projects` binds them.
const FILTER: &str = "tenant_id = ?1
    AND (?2 IS NULL OR instr(lower(name), lower(?2)) > 0 OR instr(slug, lower(?2)) > 0)
    AND (?3 IS NULL OR status = ?3)
    AND (?6 IS NULL OR id IN (SELECT value FROM json_each(?6)))";

impl Projects for Tx {
    async fn create_project(&mut self, scope: &TenantScope, new: &NewProject) -> Result<Project> {
        let id = ProjectId::generate();
        let now = ts(Utc::now());
        let row: ProjectRow = sqlx::query_as(concat!(
            "INSERT INTO projects (id, tenant_id, name, slug, description, type, status, repository_connection_id,
                                   build_config, runtime_config, detection, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?, ?) RETURNING ",
            project_columns!()
        ))
        .bind(id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.name.clone())
        .bind(new.slug.as_str().to_owned())
        .bind(new.description.clone())
        .bind(new.project_type.as_str())
        .bind(new.connection_id.as_str().to_owned())
        .bind(to_json(&new.build)?)
        .bind(to_json(&new.runtime)?)
        .bind(new.detection.clone())
        .bind(now.clone())
        .bind(now)
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        let project = Project::try_from(row)?;
        let production = NewEnvironment {
            name: "Production".into(),
            slug: shipyard_core::Slug::production(),
            branch: new.production_branch.clone(),
        };
        self.create_environment(scope, &project, &production, true).await?;
        Ok(project)
    }

    async fn list_projects(
        &mut self,
        scope: &TenantScope,
        filter: &ProjectFilter,
        page: Page,
    ) -> Result<Paged<Project>> {
        let tenant = scope.tenant_id().as_str().to_owned();
        let status = filter.status.map(|s| s.as_str());
        let only = filter.only.as_deref().map(super::tokens::ids_json);
        let rows: Vec<ProjectRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                project_columns!(),
                " FROM projects WHERE {} ORDER BY id LIMIT ?4 OFFSET ?5"
            ),
            FILTER
        )))
        .bind(tenant.clone())
        .bind(filter.search.clone())
        .bind(status)
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .bind(only.clone())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM projects WHERE {FILTER}"
        )))
        .bind(tenant)
        .bind(filter.search.clone())
        .bind(status)
        .bind(None::<i64>)
        .bind(None::<i64>)
        .bind(only)
        .fetch_one(&mut *self.0)
        .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn project(&mut self, scope: &TenantScope, id: &ProjectId) -> Result<Option<Project>> {
        let row: Option<ProjectRow> = sqlx::query_as(concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects WHERE tenant_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Project::try_from).transpose()
    }

    async fn update_project(
        &mut self,
        scope: &TenantScope,
        id: &ProjectId,
        patch: &ProjectPatch,
    ) -> Result<Option<Project>> {
        let build = patch.build.as_ref().map(to_json).transpose()?;
        let runtime = patch.runtime.as_ref().map(to_json).transpose()?;
        sqlx::query(
            "UPDATE projects SET name = COALESCE(?, name), description = COALESCE(?, description),
                    status = COALESCE(?, status), build_config = COALESCE(?, build_config),
                    runtime_config = COALESCE(?, runtime_config), updated_at = ?
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(patch.name.clone())
        .bind(patch.description.clone())
        .bind(patch.status.map(|s| s.as_str()))
        .bind(build)
        .bind(runtime)
        .bind(ts(Utc::now()))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        self.project(scope, id).await
    }

    async fn leftovers(
        &mut self,
        scope: &TenantScope,
        id: &ProjectId,
        environment: Option<&EnvironmentId>,
    ) -> Result<(Vec<ReleaseId>, Vec<DeploymentId>)> {
        const WHERE: &str = "WHERE tenant_id = ?1 AND project_id = ?2 AND (?3 IS NULL OR environment_id = ?3)";
        let env = environment.map(|e| e.as_str().to_owned());
        let releases: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM releases {WHERE}")))
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .bind(env.clone())
            .fetch_all(&mut *self.0)
            .await?;
        let deployments: Vec<(String,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM deployments {WHERE}")))
                .bind(scope.tenant_id().as_str().to_owned())
                .bind(id.as_str().to_owned())
                .bind(env)
                .fetch_all(&mut *self.0)
                .await?;
        Ok((
            releases.into_iter().map(|(r,)| ReleaseId::from_trusted(r)).collect(),
            deployments
                .into_iter()
                .map(|(d,)| DeploymentId::from_trusted(d))
                .collect(),
        ))
    }

    async fn delete_project(&mut self, scope: &TenantScope, id: &ProjectId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM projects WHERE tenant_id = ? AND id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
