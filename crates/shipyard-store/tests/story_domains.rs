//! The store story of custom domains (#36): a hostname once per project, pending in several
//! workspaces, verified in one only; a failed verify never unverifies; an environment's
//! deletion takes its domains.

mod common;

use common::{new_project, owner_scope, public_connection};
use shipyard_core::DomainId;
use shipyard_core::custom_domain::DomainStatus;
use shipyard_store::{
    Backend, Connections, Constraint, Domains, Environments, NewDomain, Projects, SqliteStore, StoreError, TenantScope,
    Tx,
};

async fn project_env(
    tx: &mut Tx,
    scope: &TenantScope,
    name: &str,
) -> (shipyard_core::ProjectId, shipyard_core::EnvironmentId) {
    let conn = tx
        .create_connection(scope, &public_connection("https://git.example.com/a/b.git"))
        .await
        .expect("connection");
    let project = tx
        .create_project(scope, &new_project(name, &conn.id))
        .await
        .expect("project");
    let env = tx
        .environments(scope, &project.id)
        .await
        .expect("environments")
        .into_iter()
        .next()
        .expect("its production environment");
    (project.id, env.id)
}

fn new_domain(project: &shipyard_core::ProjectId, env: &shipyard_core::EnvironmentId, host: &str) -> NewDomain {
    NewDomain {
        id: DomainId::generate(),
        project_id: project.clone(),
        environment_id: env.clone(),
        hostname: host.into(),
        challenge: "c".repeat(32),
    }
}

#[tokio::test]
async fn a_hostname_is_verified_in_one_workspace_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    let mut tx = store.write().await.expect("begin");
    let ada = owner_scope(&mut tx, "ada@example.com", "Acme").await;
    let bob = owner_scope(&mut tx, "bob@example.com", "Bobs").await;
    let (ada_project, ada_env) = project_env(&mut tx, &ada, "shop").await;
    let (bob_project, bob_env) = project_env(&mut tx, &bob, "shop").await;

    let mine = tx
        .create_domain(&ada, &new_domain(&ada_project, &ada_env, "shop.example.com"))
        .await
        .expect("added");
    assert_eq!(mine.status, DomainStatus::Pending);
    assert!(matches!(
        tx.create_domain(&ada, &new_domain(&ada_project, &ada_env, "shop.example.com"))
            .await,
        Err(StoreError::Conflict(Constraint::DomainHostname))
    ));
    let theirs = tx
        .create_domain(&bob, &new_domain(&bob_project, &bob_env, "shop.example.com"))
        .await
        .expect("pending in a second workspace too");

    let failed = tx
        .fail_domain(&ada, &mine.id, "no TXT record")
        .await
        .expect("fail")
        .expect("there");
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (DomainStatus::Failed, Some("no TXT record"))
    );
    let verified = tx.verify_domain(&ada, &mine.id).await.expect("verify").expect("there");
    assert_eq!(verified.status, DomainStatus::Verified);
    assert!(verified.verified_at.is_some() && verified.error.is_none());
    assert!(matches!(
        tx.verify_domain(&bob, &theirs.id).await,
        Err(StoreError::Conflict(Constraint::DomainVerified))
    ));
    let kept = tx
        .fail_domain(&ada, &mine.id, "resolver down")
        .await
        .expect("fail")
        .expect("there");
    assert_eq!(
        kept.status,
        DomainStatus::Verified,
        "a later failed check never unverifies"
    );
    assert!(
        tx.verify_domain(&bob, &mine.id).await.expect("foreign").is_none(),
        "scoped to its workspace"
    );

    // Once the first is gone, the second may verify; deleting its environment takes it.
    assert!(tx.delete_domain(&ada, &mine.id).await.expect("delete"));
    assert!(tx.verify_domain(&bob, &theirs.id).await.expect("verify").is_some());
    assert_eq!(tx.list_domains(&bob, &bob_project).await.expect("list").len(), 1);
    assert!(tx.delete_environment(&bob, &bob_env).await.expect("delete env"));
    assert!(tx.list_domains(&bob, &bob_project).await.expect("list").is_empty());
    SqliteStore::commit(tx).await.expect("commit");
}

#[tokio::test]
async fn a_domain_is_looked_at_when_due_and_routed_once_verified() {
    use chrono::{TimeDelta, Utc};
    use shipyard_core::custom_domain::{DnsRecord, RecordKind};
    use shipyard_store::{DnsLook, LiveRoutes};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    let mut tx = store.write().await.expect("begin");
    let ada = owner_scope(&mut tx, "ada@example.com", "Acme").await;
    let (project, env) = project_env(&mut tx, &ada, "shop").await;
    let shop = tx
        .create_domain(&ada, &new_domain(&project, &env, "shop.example.com"))
        .await
        .expect("added");
    assert_eq!(tx.count_domains(&ada).await.expect("count"), 1);

    // A new domain is due at once; one looked at waits for its next time.
    let now = Utc::now() + TimeDelta::seconds(1);
    let due = tx.due_domains(now, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].host_label.as_str(), due[0].workspace_slug.as_str()),
        ("shop-production", "acme")
    );
    let look = DnsLook {
        observed: vec![DnsRecord {
            kind: RecordKind::A,
            name: "shop.example.com".into(),
            value: "192.0.2.10".into(),
        }],
        points_here: true,
        error: None,
        checked_at: Some(now),
    };
    let recorded = tx
        .record_dns(&shop.id, &look, now + TimeDelta::hours(1))
        .await
        .expect("record")
        .expect("there");
    assert_eq!(recorded.dns.observed, look.observed);
    assert!(recorded.dns.points_here);
    assert!(tx.due_domains(now, 10).await.expect("due").is_empty());
    assert_eq!(
        tx.due_domains(now + TimeDelta::hours(1), 10).await.expect("due").len(),
        1
    );

    // Routed with its environment only once verified.
    let pending = tx.live_routes(Some(&env)).await.expect("routes");
    assert!(pending[0].domains.is_empty(), "pending: not routed");
    tx.verify_domain(&ada, &shop.id).await.expect("verify");
    let verified = tx.live_routes(Some(&env)).await.expect("routes");
    assert_eq!(verified[0].domains, ["shop.example.com"]);

    // A verified domain whose proof is gone keeps a note and its grace start; seen again, both
    // go; a lapse unverifies it and takes it off the routes.
    let first = tx
        .record_proof(&shop.id, Some("no TXT record"), now)
        .await
        .expect("missing")
        .expect("verified");
    assert_eq!(first.proof_missing_since.map(|t| t.timestamp()), Some(now.timestamp()));
    let later = now + TimeDelta::hours(5);
    let still = tx
        .record_proof(&shop.id, Some("no TXT record"), later)
        .await
        .expect("missing")
        .expect("verified");
    assert_eq!(
        still.proof_missing_since.map(|t| t.timestamp()),
        Some(now.timestamp()),
        "the grace starts at the first look that missed it"
    );
    assert_eq!(
        (still.status, still.error.as_deref()),
        (DomainStatus::Verified, Some("no TXT record"))
    );
    let seen = tx
        .record_proof(&shop.id, None, later)
        .await
        .expect("seen")
        .expect("verified");
    assert!(seen.proof_missing_since.is_none() && seen.error.is_none());
    let lapsed = tx
        .lapse_domain(&shop.id, "gone a week")
        .await
        .expect("lapse")
        .expect("was verified");
    assert_eq!((lapsed.status, lapsed.verified_at), (DomainStatus::Failed, None));
    assert!(tx.lapse_domain(&shop.id, "again").await.expect("lapse").is_none());
    assert!(tx.record_proof(&shop.id, None, later).await.expect("seen").is_none());
    let unrouted = tx.live_routes(Some(&env)).await.expect("routes");
    assert!(unrouted[0].domains.is_empty());
    SqliteStore::commit(tx).await.expect("commit");
}
