//! `Attachments` for SQLite.

use super::Tx;
use super::rows::ts;
use crate::model::Attachment;
use crate::scope::TenantScope;
use crate::traits::Attachments;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{DatabaseId, EnvironmentId, ProjectId};

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    database_id: String,
    project_id: String,
    environment_id: Option<String>,
    env_var: String,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            database_id: DatabaseId::from_trusted(r.database_id),
            project_id: ProjectId::from_trusted(r.project_id),
            environment_id: r.environment_id.map(EnvironmentId::from_trusted),
            env_var: r.env_var,
        }
    }
}

impl Attachments for Tx {
    async fn attach_database(&mut self, scope: &TenantScope, new: &Attachment) -> Result<()> {
        sqlx::query(
            "INSERT INTO database_attachments (database_id, tenant_id, project_id, environment_id, env_var, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(new.database_id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.project_id.as_str().to_owned())
        .bind(new.environment_id.as_ref().map(|e| e.as_str().to_owned()))
        .bind(new.env_var.clone())
        .bind(ts(Utc::now()))
        .execute(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Ok(())
    }

    async fn detach_database(
        &mut self,
        scope: &TenantScope,
        database: &DatabaseId,
        project: &ProjectId,
        environment: Option<&EnvironmentId>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM database_attachments WHERE tenant_id = ? AND database_id = ? AND project_id = ? \
             AND COALESCE(environment_id, '') = ?",
        )
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(database.as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(environment.map_or(String::new(), |e| e.as_str().to_owned()))
        .execute(&mut *self.0)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn database_attachments(&mut self, scope: &TenantScope, database: &DatabaseId) -> Result<Vec<Attachment>> {
        self.attachments_where("database_id", database.as_str(), scope).await
    }

    async fn all_attachments(&mut self) -> Result<Vec<Attachment>> {
        let rows: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT database_id, project_id, environment_id, env_var FROM database_attachments ORDER BY rowid",
        )
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }

    async fn project_attachments(&mut self, scope: &TenantScope, project: &ProjectId) -> Result<Vec<Attachment>> {
        self.attachments_where("project_id", project.as_str(), scope).await
    }
}

impl Tx {
    /// The workspace's attachments whose `column` (`database_id` or `project_id`) is `value`,
    /// oldest first.
    async fn attachments_where(
        &mut self,
        column: &'static str,
        value: &str,
        scope: &TenantScope,
    ) -> Result<Vec<Attachment>> {
        let sql = format!(
            "SELECT database_id, project_id, environment_id, env_var FROM database_attachments \
             WHERE tenant_id = ? AND {column} = ? ORDER BY created_at, rowid"
        );
        let rows: Vec<AttachmentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(value.to_owned())
            .fetch_all(&mut *self.0)
            .await?;
        Ok(rows.into_iter().map(Attachment::from).collect())
    }
}
