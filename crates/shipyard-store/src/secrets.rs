//! Secret resolution: the merged set for an environment (environment over project over
//! workspace) in clear, with the versions used, and every value the redactor must know.

use crate::model::{Connection, Page, ResolvedSecret, SealedSecretValue};
use crate::scope::TenantScope;
use crate::traits::{Connections, Secrets};
use crate::{Result, StoreError};
use shipyard_core::{ConnectionId, EnvironmentId, ProjectId, Redactor, SecretBox, SecretScope, TenantId};
use std::collections::BTreeMap;

/// The context a secret value is sealed with: its workspace, scope, target and name, so a
/// value copied into another secret's row does not open.
pub fn secret_aad(tenant: &TenantId, scope: SecretScope, target: &str, name: &str) -> Vec<u8> {
    format!("secret|{tenant}|{}|{target}|{name}", scope.as_str()).into_bytes()
}

fn open(secret_box: &SecretBox, tenant: &TenantId, v: &SealedSecretValue) -> Result<String> {
    let plain = secret_box
        .open(&v.sealed, &secret_aad(tenant, v.scope, &v.target, v.name.as_str()))
        .map_err(|_| {
            StoreError::Undecryptable(format!(
                "secret {} (v{}, {} scope, {})",
                v.name,
                v.version,
                v.scope.as_str(),
                v.secret_id
            ))
        })?;
    String::from_utf8(plain).map_err(|e| StoreError::Corrupt(format!("secret {}: {e}", v.secret_id)))
}

/// Context a repository connection's sealed credential (`what`: its auth kind, or `webhook`)
/// is bound to.
pub fn credential_aad(tenant: &TenantId, id: &ConnectionId, what: &str) -> Vec<u8> {
    format!("repository-connection|{tenant}|{id}|{what}").into_bytes()
}

/// Context a managed database's sealed password (`what`: `password` for the tenant's role,
/// `superuser` for the platform's) is bound to.
pub fn database_aad(tenant: &TenantId, id: &shipyard_core::DatabaseId, what: &str) -> Vec<u8> {
    format!("database|{tenant}|{id}|{what}").into_bytes()
}

/// A sealed secret version, opened.
fn opened(secret_box: &SecretBox, scope: &TenantScope, v: SealedSecretValue) -> Result<ResolvedSecret> {
    Ok(ResolvedSecret {
        value: open(secret_box, scope.tenant_id(), &v)?.into(),
        secret_id: v.secret_id,
        name: v.name,
        version: v.version,
        scope: v.scope,
    })
}

/// The secrets an environment's builds and instances get, by name, narrowest scope winning.
pub async fn resolve(
    tx: &mut impl Secrets,
    scope: &TenantScope,
    secret_box: &SecretBox,
    project: &ProjectId,
    environment: &EnvironmentId,
) -> Result<Vec<ResolvedSecret>> {
    let mut merged: BTreeMap<String, SealedSecretValue> = BTreeMap::new();
    for value in tx.applicable_secrets(scope, project, environment).await? {
        let wins = merged
            .get(value.name.as_str())
            .is_none_or(|held| value.scope > held.scope);
        if wins {
            merged.insert(value.name.as_str().to_owned(), value);
        }
    }
    merged.into_values().map(|v| opened(secret_box, scope, v)).collect()
}

/// The secret versions a release was made with, opened: what its instances run with, the
/// same after a rollback or a restart as on the day it was built.
pub async fn pinned(
    tx: &mut impl Secrets,
    scope: &TenantScope,
    secret_box: &SecretBox,
    release: &str,
) -> Result<Vec<ResolvedSecret>> {
    tx.release_secret_versions(scope, release)
        .await?
        .into_iter()
        .map(|v| opened(secret_box, scope, v))
        .collect()
}

/// Every secret value the workspace has ever stored and still keeps, in clear, for the redactor.
pub async fn redaction_values(
    tx: &mut impl Secrets,
    scope: &TenantScope,
    secret_box: &SecretBox,
) -> Result<Vec<String>> {
    tx.all_secret_versions(scope)
        .await?
        .iter()
        .map(|v| open(secret_box, scope.tenant_id(), v))
        .collect()
}

/// A connection's credential in clear (None when it has none).
pub fn open_connection_credential(secret_box: &SecretBox, conn: &Connection) -> Result<Option<String>> {
    let Some(sealed) = &conn.auth_sealed else {
        return Ok(None);
    };
    let plain = secret_box
        .open(sealed, &credential_aad(&conn.tenant_id, &conn.id, &conn.auth_kind))
        .map_err(|_| StoreError::Undecryptable(format!("the credential of repository connection {}", conn.id)))?;
    String::from_utf8(plain)
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("connection {}: {e}", conn.id)))
}

/// The clear credentials of every repository connection of the workspace.
pub async fn connection_credentials(
    tx: &mut impl Connections,
    scope: &TenantScope,
    secret_box: &SecretBox,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut page = Page { page: 1, per_page: 100 };
    loop {
        let batch = tx.list_connections(scope, page).await?;
        for conn in &batch.items {
            out.extend(open_connection_credential(secret_box, conn)?);
        }
        if i64::from(page.page) * i64::from(page.per_page) >= batch.total {
            return Ok(out);
        }
        page.page += 1;
    }
}

/// The redactor for a workspace's logs: every kept secret value, every repository
/// credential and every database password.
pub async fn redactor(
    tx: &mut (impl Secrets + Connections + crate::traits::Databases),
    scope: &TenantScope,
    secret_box: &SecretBox,
) -> Result<Redactor> {
    let mut values = redaction_values(tx, scope, secret_box).await?;
    values.extend(connection_credentials(tx, scope, secret_box).await?);
    values.extend(crate::attached::database_passwords(tx, scope, secret_box).await?);
    Ok(Redactor::new(values.iter().map(String::as_str)))
}
