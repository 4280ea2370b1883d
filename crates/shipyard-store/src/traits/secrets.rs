//! Secrets; every method is confined to the scope's workspace.

use crate::Result;
use crate::model::{NewSecret, Page, Paged, SealedSecretValue, Secret, SecretFilter};
use crate::scope::TenantScope;
use shipyard_core::{EnvironmentId, ProjectId, SecretId};
use std::future::Future;

/// Secrets and their versions.
pub trait Secrets {
    /// Makes a secret at version 1; `Conflict(SecretName)` when the name is taken in
    /// that scope and target.
    fn create_secret(&mut self, scope: &TenantScope, new: &NewSecret) -> impl Future<Output = Result<Secret>> + Send;
    /// Live secrets, oldest first.
    fn list_secrets(
        &mut self,
        scope: &TenantScope,
        filter: &SecretFilter,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Secret>>> + Send;
    /// One live secret.
    fn secret(&mut self, scope: &TenantScope, id: &SecretId) -> impl Future<Output = Result<Option<Secret>>> + Send;
    /// Stores a new value as the next version.
    fn add_secret_version(
        &mut self,
        scope: &TenantScope,
        id: &SecretId,
        sealed: &[u8],
    ) -> impl Future<Output = Result<Option<Secret>>> + Send;
    /// Deletes a secret; versions a release uses stay (sealed) until that release goes.
    fn delete_secret(&mut self, scope: &TenantScope, id: &SecretId) -> impl Future<Output = Result<bool>> + Send;
    /// The current versions that apply to an environment, every scope (the caller merges).
    fn applicable_secrets(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        environment: &EnvironmentId,
    ) -> impl Future<Output = Result<Vec<SealedSecretValue>>> + Send;
    /// Every stored version in the workspace, live, old or retained: what logs must never show.
    fn all_secret_versions(
        &mut self,
        scope: &TenantScope,
    ) -> impl Future<Output = Result<Vec<SealedSecretValue>>> + Send;
    /// Records that `release` uses these versions, so they outlive a DELETE.
    fn pin_secret_versions(
        &mut self,
        scope: &TenantScope,
        release: &str,
        versions: &[(SecretId, i64)],
    ) -> impl Future<Output = Result<()>> + Send;
    /// The pinned versions of a release, sealed.
    fn release_secret_versions(
        &mut self,
        scope: &TenantScope,
        release: &str,
    ) -> impl Future<Output = Result<Vec<SealedSecretValue>>> + Send;
}
