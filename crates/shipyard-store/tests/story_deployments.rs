//! The store conformance story of the deployment state machine: guarded transitions, cancel in
//! every non-terminal status (the moment after a claim included), re-queue after an
//! interruption, and the one rule of which release may become active.

mod common;

use chrono::{Duration, Utc};
use common::{new_project, owner_scope, public_connection};
use shipyard_core::{DeploymentId, DeploymentStatus, DeploymentTrigger, EnvironmentId, ReleaseId};
use shipyard_store::{
    Backend, ClaimedJob, Connections, Deployment, DeploymentUpdate, Deployments, Environments, Jobs, NewDeployment,
    NewRelease, Project, Projects, Releases, SqliteStore, TenantScope, Transition,
};

async fn setup<B: Backend>(store: &B) -> (TenantScope, Project, EnvironmentId) {
    let mut tx = store.write().await.expect("begin");
    let scope = owner_scope(&mut tx, "owner@example.com", "Works").await;
    let conn = public_connection("https://git.example.com/acme/web.git");
    let conn = tx.create_connection(&scope, &conn).await.expect("connection");
    let project = tx
        .create_project(&scope, &new_project("Web", &conn.id))
        .await
        .expect("project");
    let env = tx.environments(&scope, &project.id).await.expect("environments")[0]
        .id
        .clone();
    B::commit(tx).await.expect("commit");
    (scope, project, env)
}

async fn queue<B: Backend>(store: &B, scope: &TenantScope, project: &Project, env: &EnvironmentId) -> Deployment {
    let mut tx = store.write().await.expect("begin");
    let made = tx
        .create_deployment(
            scope,
            &NewDeployment {
                project_id: project.id.clone(),
                environment_id: env.clone(),
                branch: "main".into(),
                commit_sha: None,
                commit_message: None,
                note: None,
                trigger: DeploymentTrigger::Api,
                clear_cache: false,
                retry_of: None,
            },
        )
        .await
        .expect("deployment");
    B::commit(tx).await.expect("commit");
    made
}

async fn claim<B: Backend>(store: &B, lease: &str) -> ClaimedJob {
    let mut tx = store.write().await.expect("begin");
    let job = tx
        .claim_job(lease, Utc::now() + Duration::seconds(30))
        .await
        .expect("claim")
        .expect("a job is queued");
    B::commit(tx).await.expect("commit");
    job
}

/// A worker's write for `attempt`, with a field that must not land when it loses.
async fn worker_write<B: Backend>(
    store: &B,
    scope: &TenantScope,
    id: &DeploymentId,
    status: Option<DeploymentStatus>,
    attempt: i64,
) -> Transition {
    let mut tx = store.write().await.expect("begin");
    let update = DeploymentUpdate {
        status,
        attempt: Some(attempt),
        commit_sha: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..DeploymentUpdate::default()
    };
    let outcome = tx
        .update_deployment(scope, id, &update, "worker")
        .await
        .expect("update")
        .expect("deployment exists");
    B::commit(tx).await.expect("commit");
    outcome
}

async fn status<B: Backend>(store: &B, scope: &TenantScope, id: &DeploymentId) -> Deployment {
    let mut tx = store.read().await.expect("begin");
    tx.deployment(scope, id).await.expect("read").expect("exists")
}

async fn cancel<B: Backend>(store: &B, scope: &TenantScope, id: &DeploymentId) -> bool {
    let mut tx = store.write().await.expect("begin");
    let ended = tx.request_cancel(scope, id).await.expect("cancel");
    B::commit(tx).await.expect("commit");
    ended
}

async fn release<B: Backend>(store: &B, scope: &TenantScope, dep: &Deployment) -> ReleaseId {
    let mut tx = store.write().await.expect("begin");
    let made = tx
        .create_release(
            scope,
            &NewRelease {
                id: ReleaseId::generate(),
                project_id: dep.project_id.clone(),
                environment_id: dep.environment_id.clone(),
                deployment_id: Some(dep.id.clone()),
                commit_sha: "abc".into(),
                rollback_of: None,
                config: shipyard_core::ReleaseConfig {
                    build: shipyard_core::BuildConfig::default(),
                    runtime: shipyard_core::RuntimeConfig::defaults(shipyard_core::RuntimeType::Static),
                    secret_versions: Vec::new(),
                    attachments: Vec::new(),
                    dropped_attachments: Vec::new(),
                    rollback_reason: None,
                },
            },
        )
        .await
        .expect("release");
    B::commit(tx).await.expect("commit");
    made.id
}

async fn finish<B: Backend>(store: &B, job: &ClaimedJob, lease: &str) {
    let mut tx = store.write().await.expect("begin");
    tx.finish_job(job.id, lease).await.expect("finish");
    B::commit(tx).await.expect("commit");
}

async fn state_machine_story<B: Backend>(store: B) {
    let (scope, project, env) = setup(&store).await;

    // Cancel in the moment after a worker claimed the job and before it set `building`: the
    // deployment ends canceled at once, and every later write of the worker loses.
    let first = queue(&store, &scope, &project, &env).await;
    let job = claim(&store, "w1:a").await;
    assert_eq!(job.deployment_id, first.id);
    assert!(cancel(&store, &scope, &first.id).await, "ends at once");
    for next in [
        Some(DeploymentStatus::Building),
        Some(DeploymentStatus::Deploying),
        Some(DeploymentStatus::Ready),
        None,
    ] {
        let outcome = worker_write(&store, &scope, &first.id, next, 1).await;
        assert!(!outcome.applied(), "{next:?} must lose to the cancel");
    }
    let now = status(&store, &scope, &first.id).await;
    assert_eq!(now.status, DeploymentStatus::Canceled);
    assert_eq!(now.commit_sha, None, "no field of the loser was written");
    finish(&store, &job, "w1:a").await;
    let mut tx = store.read().await.expect("begin");
    let releases = tx
        .list_releases(&scope, &project.id, None, common::PAGE)
        .await
        .expect("list");
    assert_eq!(releases.total, 0, "no release appears");
    drop(tx);

    // Cancel during `deploying` is honoured: `ready` loses, `canceled` applies.
    let second = queue(&store, &scope, &project, &env).await;
    let job = claim(&store, "w1:b").await;
    assert!(
        worker_write(&store, &scope, &second.id, Some(DeploymentStatus::Building), 1)
            .await
            .applied()
    );
    assert!(
        worker_write(&store, &scope, &second.id, Some(DeploymentStatus::Deploying), 1)
            .await
            .applied()
    );
    assert!(!cancel(&store, &scope, &second.id).await, "a running build is flagged");
    let mut tx = store.write().await.expect("begin");
    assert_eq!(
        tx.renew_lease(job.id, "w1:b", Utc::now() + Duration::seconds(30))
            .await
            .expect("renew"),
        Some(true),
        "the holder sees the flag"
    );
    B::commit(tx).await.expect("commit");
    assert!(
        !worker_write(&store, &scope, &second.id, Some(DeploymentStatus::Ready), 1)
            .await
            .applied()
    );
    assert!(
        worker_write(&store, &scope, &second.id, Some(DeploymentStatus::Canceled), 1)
            .await
            .applied()
    );
    finish(&store, &job, "w1:b").await;

    // A build the lease sweeper took back cannot flip to ready: its first interruption queues
    // it again as attempt 2, and the old holder's writes for attempt 1 all lose.
    let third = queue(&store, &scope, &project, &env).await;
    let job = claim(&store, "w1:c").await;
    assert!(
        worker_write(&store, &scope, &third.id, Some(DeploymentStatus::Building), 1)
            .await
            .applied()
    );
    let mut tx = store.write().await.expect("begin");
    let taken = tx
        .interrupt_jobs(Some(Utc::now() + Duration::seconds(60)), "lease expired")
        .await
        .expect("sweep");
    B::commit(tx).await.expect("commit");
    assert_eq!((taken.len(), taken[0].requeued), (1, true));
    let requeued = status(&store, &scope, &third.id).await;
    assert_eq!((requeued.status, requeued.attempt), (DeploymentStatus::Queued, 2));
    for next in [Some(DeploymentStatus::Deploying), Some(DeploymentStatus::Ready), None] {
        assert!(
            !worker_write(&store, &scope, &third.id, next, 1).await.applied(),
            "{next:?}"
        );
    }
    let mut tx = store.write().await.expect("begin");
    assert_eq!(
        tx.renew_lease(job.id, "w1:c", Utc::now() + Duration::seconds(30))
            .await
            .expect("renew"),
        None,
        "the old holder lost its lease"
    );
    B::commit(tx).await.expect("commit");
    finish(&store, &job, "w1:c").await;
    // The second attempt is claimed again (the old holder's finish did not end the job).
    let again = claim(&store, "w2:c").await;
    assert_eq!(again.deployment_id, third.id);
    assert!(
        worker_write(&store, &scope, &third.id, Some(DeploymentStatus::Building), 2)
            .await
            .applied()
    );
    // Interrupted a second time, it fails, and a failed deployment never changes again.
    let mut tx = store.write().await.expect("begin");
    let taken = tx
        .interrupt_jobs(None, "interrupted by a platform restart")
        .await
        .expect("restart");
    B::commit(tx).await.expect("commit");
    assert_eq!((taken.len(), taken[0].requeued), (1, false));
    let failed = status(&store, &scope, &third.id).await;
    assert_eq!(failed.status, DeploymentStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("interrupted by a platform restart"));
    for next in [
        Some(DeploymentStatus::Deploying),
        Some(DeploymentStatus::Ready),
        Some(DeploymentStatus::Canceled),
        Some(DeploymentStatus::Queued),
    ] {
        assert!(
            !worker_write(&store, &scope, &third.id, next, 2).await.applied(),
            "{next:?}"
        );
    }

    // Which release may become active: the one asked for later, whatever order they finish in.
    let older = queue(&store, &scope, &project, &env).await;
    let newer = queue(&store, &scope, &project, &env).await;
    let newer_release = release(&store, &scope, &newer).await;
    let older_release = release(&store, &scope, &older).await;
    let mut tx = store.write().await.expect("begin");
    assert!(
        tx.activate_release_if_newer(&scope, &newer_release)
            .await
            .expect("activate")
    );
    assert!(
        !tx.activate_release_if_newer(&scope, &older_release)
            .await
            .expect("activate"),
        "a slow old build never replaces a newer release"
    );
    assert!(!tx.is_newer_than_active(&scope, &older_release).await.expect("check"));
    let active = tx
        .active_release(&scope, &env)
        .await
        .expect("active")
        .expect("one is active");
    assert_eq!(active.id, newer_release);
    B::commit(tx).await.expect("commit");
}

#[tokio::test]
async fn sqlite_backend_tells_the_state_machine_story() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    state_machine_story(store).await;
}
