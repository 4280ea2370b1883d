//! `Connections` for SQLite.

use super::Tx;
use super::project_rows::ConnectionRow;
use super::rows::{convert, ts};
use crate::model::{Connection, NewConnection, Page, Paged};
use crate::scope::TenantScope;
use crate::traits::Connections;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::ConnectionId;

macro_rules! connection_columns {
    () => {
        "id, tenant_id, name, url, default_branch, auth_kind, auth_sealed, webhook_secret_sealed, created_at"
    };
}

impl Connections for Tx {
    async fn create_connection(&mut self, scope: &TenantScope, new: &NewConnection) -> Result<Connection> {
        let row: ConnectionRow = sqlx::query_as(concat!(
            "INSERT INTO repository_connections
               (id, tenant_id, name, provider, url, default_branch, auth_kind, auth_sealed, webhook_secret_sealed, created_at)
             VALUES (?, ?, ?, 'git', ?, ?, ?, ?, ?, ?) RETURNING ",
            connection_columns!()
        ))
        .bind(new.id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.name.clone())
        .bind(new.url.as_str().to_owned())
        .bind(new.default_branch.clone())
        .bind(new.auth_kind)
        .bind(new.auth_sealed.clone())
        .bind(new.webhook_secret_sealed.clone())
        .bind(ts(Utc::now()))
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        Connection::try_from(row)
    }

    async fn list_connections(&mut self, scope: &TenantScope, page: Page) -> Result<Paged<Connection>> {
        let rows: Vec<ConnectionRow> = sqlx::query_as(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM repository_connections WHERE tenant_id = ? ORDER BY id LIMIT ? OFFSET ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar("SELECT COUNT(*) FROM repository_connections WHERE tenant_id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_one(&mut *self.0)
            .await?;
        Ok(Paged {
            items: convert(rows)?,
            total,
        })
    }

    async fn connection(&mut self, scope: &TenantScope, id: &ConnectionId) -> Result<Option<Connection>> {
        let row: Option<ConnectionRow> = sqlx::query_as(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM repository_connections WHERE tenant_id = ? AND id = ?"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Connection::try_from).transpose()
    }

    async fn connection_usage(&mut self, scope: &TenantScope, id: &ConnectionId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE tenant_id = ? AND repository_connection_id = ?")
                .bind(scope.tenant_id().as_str().to_owned())
                .bind(id.as_str().to_owned())
                .fetch_one(&mut *self.0)
                .await?,
        )
    }

    async fn delete_connection(&mut self, scope: &TenantScope, id: &ConnectionId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM repository_connections WHERE tenant_id = ? AND id = ?")
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await
            .map_err(StoreError::from_write)?;
        Ok(done.rows_affected() == 1)
    }
}
