//! Secret resolution: the merged set for an environment (environment over project over
//! workspace) in clear, with the versions used, and every value the redactor must know.

use crate::model::{ResolvedSecret, SealedSecretValue};
use crate::scope::TenantScope;
use crate::traits::Secrets;
use crate::{Result, StoreError};
use shipyard_core::{EnvironmentId, ProjectId, Redactor, SecretBox, SecretScope, TenantId};
use std::collections::BTreeMap;

/// The context a secret value is sealed with: its workspace, scope, target and name, so a
/// value copied into another secret's row does not open.
pub fn secret_aad(tenant: &TenantId, scope: SecretScope, target: &str, name: &str) -> Vec<u8> {
    format!("secret|{tenant}|{}|{target}|{name}", scope.as_str()).into_bytes()
}

fn open(secret_box: &SecretBox, tenant: &TenantId, v: &SealedSecretValue) -> Result<String> {
    let plain = secret_box
        .open(&v.sealed, &secret_aad(tenant, v.scope, &v.target, v.name.as_str()))
        .map_err(|e| StoreError::Corrupt(format!("secret {} v{}: {e}", v.secret_id, v.version)))?;
    String::from_utf8(plain).map_err(|e| StoreError::Corrupt(format!("secret {}: {e}", v.secret_id)))
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
    merged
        .into_values()
        .map(|v| {
            Ok(ResolvedSecret {
                value: open(secret_box, scope.tenant_id(), &v)?,
                secret_id: v.secret_id,
                name: v.name,
                version: v.version,
                scope: v.scope,
            })
        })
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

/// A redactor for the workspace's secrets plus `extra` values (e.g. repository credentials).
pub async fn redactor(
    tx: &mut impl Secrets,
    scope: &TenantScope,
    secret_box: &SecretBox,
    extra: &[String],
) -> Result<Redactor> {
    let values = redaction_values(tx, scope, secret_box).await?;
    Ok(Redactor::new(values.iter().chain(extra).map(String::as_str)))
}
