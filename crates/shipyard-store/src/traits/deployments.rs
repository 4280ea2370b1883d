//! Deployments and releases (scoped to a workspace) and the job queue (platform-internal).

use crate::Result;
use crate::model::{
    ClaimedJob, Deployment, DeploymentEvent, DeploymentFilter, DeploymentUpdate, InterruptedJob, NewDeployment,
    NewRelease, Page, Paged, Release, Transition,
};
use crate::scope::TenantScope;
use chrono::{DateTime, Utc};
use shipyard_core::{DeploymentId, EnvironmentId, ProjectId, ReleaseId, TenantId};
use std::future::Future;

/// Deployments of a workspace.
pub trait Deployments {
    /// Queues a deployment: its number, the row, its first event and its job commit together.
    fn create_deployment(
        &mut self,
        scope: &TenantScope,
        new: &NewDeployment,
    ) -> impl Future<Output = Result<Deployment>> + Send;
    /// Deployments the workspace asked for since `since` (the quota's day).
    fn deployments_since(
        &mut self,
        scope: &TenantScope,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<i64>> + Send;
    /// The workspace's daily deploy quota.
    fn deploy_quota(&mut self, scope: &TenantScope) -> impl Future<Output = Result<i64>> + Send;
    /// The workspace's memory limit (MiB) for the instances of its active releases.
    fn memory_mb_limit(&mut self, scope: &TenantScope) -> impl Future<Output = Result<i64>> + Send;
    /// The workspace's storage limit (GiB) for its releases, build disks and HOMEs.
    fn storage_gb_limit(&mut self, scope: &TenantScope) -> impl Future<Output = Result<i64>> + Send;
    /// One deployment by id.
    fn deployment(
        &mut self,
        scope: &TenantScope,
        id: &DeploymentId,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;
    /// One deployment by its number.
    fn deployment_by_number(
        &mut self,
        scope: &TenantScope,
        number: i64,
    ) -> impl Future<Output = Result<Option<Deployment>>> + Send;
    /// A project's deployments, newest first.
    fn list_deployments(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        filter: &DeploymentFilter,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Deployment>>> + Send;
    /// The newest deployment of each environment of the workspace.
    fn latest_deployments(&mut self, scope: &TenantScope) -> impl Future<Output = Result<Vec<Deployment>>> + Send;
    /// A deployment's timeline, oldest first.
    fn deployment_events(
        &mut self,
        scope: &TenantScope,
        id: &DeploymentId,
    ) -> impl Future<Output = Result<Vec<DeploymentEvent>>> + Send;
    /// Changes a deployment's state by a guarded transition and, when it applies, records an
    /// event saying so. A requested cancel wins over every change but to `failed` or
    /// `canceled`. None when the deployment is gone.
    fn update_deployment(
        &mut self,
        scope: &TenantScope,
        id: &DeploymentId,
        update: &DeploymentUpdate,
        event: &str,
    ) -> impl Future<Output = Result<Option<Transition>>> + Send;
    /// The go-live watch's one move: a `ready` deployment becomes `failed` with `error`, and an
    /// event of type `event` (`auto_rollback`, or `failed` when there was nothing to return
    /// to). False when it was not `ready` (it moves at most once).
    fn fail_after_go_live(
        &mut self,
        scope: &TenantScope,
        id: &DeploymentId,
        error: &str,
        event: &str,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Asks for a cancel: its job is flagged (its worker watches the flag), and a deployment no
    /// build has started yet ends at once (true), even when a worker has just claimed it.
    fn request_cancel(&mut self, scope: &TenantScope, id: &DeploymentId) -> impl Future<Output = Result<bool>> + Send;
}

/// The job queue, used by workers.
pub trait Jobs {
    /// Takes the oldest queued job whose lane (environment) has nothing running, under the
    /// lease token `lease` (unique per claim).
    fn claim_job(
        &mut self,
        lease: &str,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<ClaimedJob>>> + Send;
    /// Extends a lease; None when the lease was lost, else whether a cancel was requested.
    fn renew_lease(
        &mut self,
        job: i64,
        lease: &str,
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<bool>>> + Send;
    /// Marks a job done, if `lease` still holds it.
    fn finish_job(&mut self, job: i64, lease: &str) -> impl Future<Output = Result<()>> + Send;
    /// Takes back running jobs whose lease expired before `now` (or every running job, when
    /// `now` is None): a deployment on its first attempt is queued again as attempt 2, one on
    /// its second fails with `reason`, a cancel-requested one ends canceled.
    fn interrupt_jobs(
        &mut self,
        now: Option<DateTime<Utc>>,
        reason: &str,
    ) -> impl Future<Output = Result<Vec<InterruptedJob>>> + Send;
    /// Every workspace with its storage limit, and the workspace of every project and release
    /// the store keeps: for mounting workspaces' disks and sweeping files nobody owns.
    fn storage_owners(&mut self) -> impl Future<Output = Result<crate::model::StorageOwners>> + Send;
    /// The uid `project`'s sandboxes run as: its own, taken from `range` the first time and
    /// never given to another project, even after this one is deleted.
    fn sandbox_uid(
        &mut self,
        project: &shipyard_core::ProjectId,
        range: std::ops::RangeInclusive<u32>,
    ) -> impl Future<Output = Result<u32>> + Send;
    /// The scope a worker acts in for a job of `tenant`.
    fn worker_scope(&mut self, tenant: &TenantId) -> impl Future<Output = Result<Option<TenantScope>>> + Send;
}

/// Releases of a workspace.
pub trait Releases {
    /// Records a release with the next version of its environment.
    fn create_release(&mut self, scope: &TenantScope, new: &NewRelease)
    -> impl Future<Output = Result<Release>> + Send;
    /// Makes a release the active one of its environment (the previous one turns inactive)
    /// unless the active one is newer, i.e. was asked for later (a built release by its
    /// deployment's creation, a rollback by its own); true when it became active. The one
    /// rule the worker, rollback and the runtime share.
    fn activate_release_if_newer(
        &mut self,
        scope: &TenantScope,
        id: &ReleaseId,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Whether a release is newer than its environment's active one (true with none active):
    /// the test `activate_release_if_newer` applies.
    fn is_newer_than_active(
        &mut self,
        scope: &TenantScope,
        id: &ReleaseId,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Removes a release that never became active (its deployment lost to a cancel), with its
    /// secret-version pins.
    fn delete_unused_release(&mut self, scope: &TenantScope, id: &ReleaseId)
    -> impl Future<Output = Result<()>> + Send;
    /// One release.
    fn release(&mut self, scope: &TenantScope, id: &ReleaseId) -> impl Future<Output = Result<Option<Release>>> + Send;
    /// Every active release of the workspace, with its environment and project: what runs.
    fn active_releases(&mut self, scope: &TenantScope) -> impl Future<Output = Result<Vec<Release>>> + Send;
    /// The active release of an environment.
    fn active_release(
        &mut self,
        scope: &TenantScope,
        env: &EnvironmentId,
    ) -> impl Future<Output = Result<Option<Release>>> + Send;
    /// Marks every release of `env` beyond the newest `keep` (never the active one) as having no
    /// artifact, drops their secret-version pins, and returns them so their files can go.
    fn prune_releases(
        &mut self,
        scope: &TenantScope,
        env: &EnvironmentId,
        keep: i64,
    ) -> impl Future<Output = Result<Vec<ReleaseId>>> + Send;
    /// A project's releases, newest first, optionally of one environment.
    fn list_releases(
        &mut self,
        scope: &TenantScope,
        project: &ProjectId,
        env: Option<&EnvironmentId>,
        page: Page,
    ) -> impl Future<Output = Result<Paged<Release>>> + Send;
}
