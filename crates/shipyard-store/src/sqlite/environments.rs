//! `Environments` for SQLite.

use super::Tx;
use super::project_rows::EnvironmentRow;
use super::rows::{convert, ts};
use crate::model::{Environment, NewEnvironment, Project};
use crate::scope::TenantScope;
use crate::traits::Environments;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{EnvironmentId, ProjectId};

macro_rules! environment_columns {
    () => {
        "id, project_id, name, slug, branch, is_production, host_label, created_at"
    };
}

impl Environments for Tx {
    async fn environments(&mut self, scope: &TenantScope, project: &ProjectId) -> Result<Vec<Environment>> {
        let rows: Vec<EnvironmentRow> = sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE tenant_id = ? AND project_id = ? ORDER BY is_production DESC, id"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn workspace_environments(&mut self, scope: &TenantScope) -> Result<Vec<Environment>> {
        let rows: Vec<EnvironmentRow> = sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE tenant_id = ? ORDER BY is_production DESC, id"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn environment(&mut self, scope: &TenantScope, id: &EnvironmentId) -> Result<Option<Environment>> {
        let row: Option<EnvironmentRow> = sqlx::query_as(concat!(
            "SELECT ",
            environment_columns!(),
            " FROM environments WHERE tenant_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Environment::try_from).transpose()
    }

    async fn create_environment(
        &mut self,
        scope: &TenantScope,
        project: &Project,
        new: &NewEnvironment,
        is_production: bool,
    ) -> Result<Environment> {
        let row: EnvironmentRow = sqlx::query_as(concat!(
            "INSERT INTO environments (id, tenant_id, project_id, name, slug, branch, is_production, host_label, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ",
            environment_columns!()
        ))
        .bind(EnvironmentId::generate().as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.id.as_str().to_owned())
        .bind(new.name.clone())
        .bind(new.slug.as_str().to_owned())
        .bind(new.branch.clone())
        .bind(is_production)
        .bind(shipyard_core::HostLabel::new(&project.slug, &new.slug)?.as_str().to_owned())
        .bind(ts(Utc::now()))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Environment::try_from(row)
    }

    async fn update_environment(
        &mut self,
        scope: &TenantScope,
        id: &EnvironmentId,
        name: Option<&str>,
        branch: Option<&str>,
    ) -> Result<Option<Environment>> {
        sqlx::query("UPDATE environments SET name = COALESCE(?, name), branch = COALESCE(?, branch) WHERE tenant_id = ? AND id = ?")
            .bind(name.map(str::to_owned))
            .bind(branch.map(str::to_owned))
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        self.environment(scope, id).await
    }

    async fn delete_environment(&mut self, scope: &TenantScope, id: &EnvironmentId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM environments WHERE tenant_id = ? AND id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
