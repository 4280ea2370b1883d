//! `Secrets` for SQLite.

use super::Tx;
use super::rows::{convert, parse_ts, ts};
use crate::model::{NewSecret, Page, Paged, SealedSecretValue, Secret, SecretFilter};
use crate::scope::TenantScope;
use crate::traits::Secrets;
use crate::{Result, StoreError};
use chrono::Utc;
use shipyard_core::{EnvVarName, EnvironmentId, ProjectId, SecretId, SecretScope, TenantId};

#[derive(sqlx::FromRow)]
struct SecretRow {
    id: String,
    tenant_id: String,
    name: String,
    scope: String,
    project_id: Option<String>,
    environment_id: Option<String>,
    current_version: i64,
    created_at: String,
    updated_at: String,
}

fn scope_of(text: &str) -> Result<SecretScope> {
    SecretScope::parse(text).ok_or_else(|| StoreError::Corrupt(format!("secret scope `{text}`")))
}

impl TryFrom<SecretRow> for Secret {
    type Error = StoreError;
    fn try_from(r: SecretRow) -> Result<Self> {
        Ok(Secret {
            id: SecretId::from_trusted(r.id),
            tenant_id: TenantId::from_trusted(r.tenant_id),
            name: EnvVarName::from_trusted(r.name),
            scope: scope_of(&r.scope)?,
            project_id: r.project_id.map(ProjectId::from_trusted),
            environment_id: r.environment_id.map(EnvironmentId::from_trusted),
            version: r.current_version,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    secret_id: String,
    name: String,
    scope: String,
    target: String,
    version: i64,
    sealed: Vec<u8>,
}

impl TryFrom<SealedRow> for SealedSecretValue {
    type Error = StoreError;
    fn try_from(r: SealedRow) -> Result<Self> {
        Ok(SealedSecretValue {
            secret_id: SecretId::from_trusted(r.secret_id),
            name: EnvVarName::from_trusted(r.name),
            scope: scope_of(&r.scope)?,
            target: r.target,
            version: r.version,
            sealed: r.sealed,
        })
    }
}

macro_rules! secret_columns {
    () => {
        "id, tenant_id, name, scope, project_id, environment_id, current_version, created_at, updated_at"
    };
}

macro_rules! sealed_select {
    () => {
        "SELECT s.id AS secret_id, s.name, s.scope, COALESCE(s.environment_id, s.project_id, '') AS target,
                v.version, v.sealed
         FROM secret_versions v JOIN secrets s ON s.id = v.secret_id"
    };
}

const FILTER: &str = "tenant_id = ?1 AND deleted_at IS NULL AND (?2 IS NULL OR scope = ?2)
    AND (?3 IS NULL OR project_id = ?3) AND (?4 IS NULL OR environment_id = ?4)
    AND (?7 IS NULL OR project_id IN (SELECT value FROM json_each(?7)))";

impl Secrets for Tx {
    async fn create_secret(&mut self, scope: &TenantScope, new: &NewSecret) -> Result<Secret> {
        let id = SecretId::generate();
        let now = ts(Utc::now());
        let row: SecretRow = sqlx::query_as(concat!(
            "INSERT INTO secrets (id, tenant_id, name, scope, project_id, environment_id, current_version, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING ",
            secret_columns!()
        ))
        .bind(id.as_str().to_owned())
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(new.name.as_str().to_owned())
        .bind(new.scope.as_str())
        .bind(new.project_id.as_ref().map(|p| p.as_str().to_owned()))
        .bind(new.environment_id.as_ref().map(|e| e.as_str().to_owned()))
        .bind(now.clone())
        .bind(now.clone())
        .fetch_one(&mut *self.0)
        .await
        .map_err(StoreError::from_write)?;
        sqlx::query("INSERT INTO secret_versions (secret_id, version, sealed, created_at) VALUES (?, 1, ?, ?)")
            .bind(id.as_str().to_owned())
            .bind(new.sealed.clone())
            .bind(now)
            .execute(&mut *self.0)
            .await?;
        Secret::try_from(row)
    }

    async fn list_secrets(&mut self, scope: &TenantScope, filter: &SecretFilter, page: Page) -> Result<Paged<Secret>> {
        let tenant = scope.tenant_id().as_str().to_owned();
        let kind = filter.scope.map(SecretScope::as_str);
        let project = filter.project_id.as_ref().map(|p| p.as_str().to_owned());
        let env = filter.environment_id.as_ref().map(|e| e.as_str().to_owned());
        let only = filter.only_projects.as_deref().map(super::tokens::ids_json);
        let rows: Vec<SecretRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            concat!(
                "SELECT ",
                secret_columns!(),
                " FROM secrets WHERE {} ORDER BY id LIMIT ?5 OFFSET ?6"
            ),
            FILTER
        )))
        .bind(tenant.clone())
        .bind(kind)
        .bind(project.clone())
        .bind(env.clone())
        .bind(i64::from(page.per_page))
        .bind(page.offset())
        .bind(only.clone())
        .fetch_all(&mut *self.0)
        .await?;
        let total = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM secrets WHERE {FILTER}"
        )))
        .bind(tenant)
        .bind(kind)
        .bind(project)
        .bind(env)
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

    async fn secret(&mut self, scope: &TenantScope, id: &SecretId) -> Result<Option<Secret>> {
        let row: Option<SecretRow> = sqlx::query_as(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE tenant_id = ? AND id = ? AND deleted_at IS NULL"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(id.as_str().to_owned())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(Secret::try_from).transpose()
    }

    async fn add_secret_version(
        &mut self,
        scope: &TenantScope,
        id: &SecretId,
        sealed: &[u8],
    ) -> Result<Option<Secret>> {
        let Some(current) = self.secret(scope, id).await? else {
            return Ok(None);
        };
        let now = ts(Utc::now());
        let next = current.version + 1;
        sqlx::query("INSERT INTO secret_versions (secret_id, version, sealed, created_at) VALUES (?, ?, ?, ?)")
            .bind(id.as_str().to_owned())
            .bind(next)
            .bind(sealed.to_vec())
            .bind(now.clone())
            .execute(&mut *self.0)
            .await?;
        sqlx::query("UPDATE secrets SET current_version = ?, updated_at = ? WHERE id = ?")
            .bind(next)
            .bind(now)
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        self.secret(scope, id).await
    }

    async fn delete_secret(&mut self, scope: &TenantScope, id: &SecretId) -> Result<bool> {
        if self.secret(scope, id).await?.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM secret_versions WHERE secret_id = ?
               AND id NOT IN (SELECT secret_version_id FROM release_secret_versions)",
        )
        .bind(id.as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        // Keep the row only while some release still needs one of its versions.
        sqlx::query(
            "DELETE FROM secrets WHERE id = ? AND NOT EXISTS (SELECT 1 FROM secret_versions WHERE secret_id = ?)",
        )
        .bind(id.as_str().to_owned())
        .bind(id.as_str().to_owned())
        .execute(&mut *self.0)
        .await?;
        sqlx::query("UPDATE secrets SET deleted_at = ? WHERE id = ?")
            .bind(ts(Utc::now()))
            .bind(id.as_str().to_owned())
            .execute(&mut *self.0)
            .await?;
        Ok(true)
    }

    async fn applicable_secrets(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        environment: &EnvironmentId,
    ) -> Result<Vec<SealedSecretValue>> {
        let rows: Vec<SealedRow> = sqlx::query_as(concat!(
            sealed_select!(),
            " WHERE s.tenant_id = ? AND s.deleted_at IS NULL AND v.version = s.current_version
                AND (s.scope = 'workspace'
                     OR (s.scope = 'project' AND s.project_id = ?)
                     OR (s.scope = 'environment' AND s.environment_id = ?))
              ORDER BY s.name"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(project.as_str().to_owned())
        .bind(environment.as_str().to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }

    async fn all_secret_versions(&mut self, scope: &TenantScope) -> Result<Vec<SealedSecretValue>> {
        let rows: Vec<SealedRow> = sqlx::query_as(concat!(sealed_select!(), " WHERE s.tenant_id = ?"))
            .bind(scope.tenant_id().as_str().to_owned())
            .fetch_all(&mut *self.0)
            .await?;
        convert(rows)
    }

    async fn pin_secret_versions(
        &mut self,
        scope: &TenantScope,
        release: &str,
        versions: &[(SecretId, i64)],
    ) -> Result<()> {
        for (secret, version) in versions {
            sqlx::query(
                "INSERT OR IGNORE INTO release_secret_versions (release_id, secret_version_id)
                 SELECT ?, v.id FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
                 WHERE s.tenant_id = ? AND v.secret_id = ? AND v.version = ?",
            )
            .bind(release.to_owned())
            .bind(scope.tenant_id().as_str().to_owned())
            .bind(secret.as_str().to_owned())
            .bind(*version)
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

    async fn release_secret_versions(&mut self, scope: &TenantScope, release: &str) -> Result<Vec<SealedSecretValue>> {
        let rows: Vec<SealedRow> = sqlx::query_as(concat!(
            sealed_select!(),
            " JOIN release_secret_versions r ON r.secret_version_id = v.id
              WHERE s.tenant_id = ? AND r.release_id = ? ORDER BY s.name"
        ))
        .bind(scope.tenant_id().as_str().to_owned())
        .bind(release.to_owned())
        .fetch_all(&mut *self.0)
        .await?;
        convert(rows)
    }
}
