//! The daily schedule on a clock of the test's own (#35): one daily backup per database and
//! day once `--backup-at` has passed, a stopped database's skip recorded with its reason, the
//! eighth day's run removing the oldest completed daily, manual backups kept.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use shipyard_core::{BackupId, BackupKind, DatabaseId, DatabaseStatus, Email, JobStatus, SecretBox};
use shipyard_databases::backup::schedule::{Schedule, plan, prune};
use shipyard_store::{
    Backend, BackupUpdate, Backups, DatabaseState, Databases, NewDatabase, NewUser, Page, SqliteStore, Tenants, Users,
};

fn at(day: u32, hour: u32, minute: u32) -> NaiveDateTime {
    // Days after the databases below are made (now): one made later waits for the next day.
    NaiveDate::from_ymd_opt(2027, 1, day)
        .and_then(|d| d.and_hms_opt(hour, minute, 0))
        .expect("a time")
}

fn new_database(name: &str, uid: u32, port: u16) -> NewDatabase {
    NewDatabase {
        id: DatabaseId::generate(),
        name: name.into(),
        engine: "postgres".into(),
        version: "15".into(),
        port,
        uid,
        database_name: name.into(),
        username: format!("{name}_owner"),
        password_sealed: vec![1],
        superuser_password_sealed: vec![2],
        memory_mb: 128,
        disk_mb: 256,
    }
}

fn completed() -> BackupUpdate {
    BackupUpdate {
        status: JobStatus::Completed,
        size_bytes: Some(10),
        error: None,
        fingerprint: None,
        verified: Some((1, 1)),
    }
}

#[tokio::test]
async fn one_daily_a_day_the_eighth_drops_the_oldest_and_manual_ones_stay() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    let secret_box = SecretBox::new(&SecretBox::generate_key()).expect("box");
    let schedule = Schedule {
        at: NaiveTime::from_hms_opt(3, 0, 0).expect("03:00"),
        retention: 7,
    };
    let mut tx = store.write().await.expect("begin");
    let owner = tx
        .create_user(&NewUser {
            email: Email::parse("clock@example.com").expect("email"),
            name: "clock".into(),
            password_hash: None,
            is_platform_admin: false,
        })
        .await
        .expect("user");
    let workspace = tx.create_tenant("Clock", &owner.id).await.expect("tenant");
    let scope = tx
        .tenant_scope(&owner.id, &workspace.id)
        .await
        .expect("scope")
        .expect("member");
    let running = tx
        .create_database(&scope, &new_database("running", 400_001, 15001))
        .await
        .expect("db");
    tx.set_database_state(
        &running.id,
        &DatabaseState {
            status: DatabaseStatus::Running,
            error: None,
            last_exit_reason: None,
        },
    )
    .await
    .expect("running");
    let stopped = tx
        .create_database(&scope, &new_database("stopped", 400_002, 15002))
        .await
        .expect("db");
    tx.set_database_state(
        &stopped.id,
        &DatabaseState {
            status: DatabaseStatus::Stopped,
            error: None,
            last_exit_reason: None,
        },
    )
    .await
    .expect("stopped");
    let manual = tx
        .create_backup(
            &scope,
            &running.id,
            &BackupId::generate(),
            BackupKind::Manual,
            &[0],
            None,
        )
        .await
        .expect("manual")
        .expect("made");
    tx.update_backup(&manual.id, &completed()).await.expect("completed");

    // Before its time a day has nothing due.
    let early = plan(&mut tx, at(1, 2, 59), &schedule, &secret_box).await.expect("plan");
    assert!(early.queued.is_empty() && early.skipped.is_empty(), "{early:?}");
    let mut first_daily = None;
    for day in 1..=8 {
        let planned = plan(&mut tx, at(day, 3, 0), &schedule, &secret_box)
            .await
            .expect("plan");
        assert_eq!(planned.queued.len(), 1, "day {day}: {planned:?}");
        assert_eq!(planned.queued[0].database_id, running.id);
        assert_eq!(
            planned.queued[0].day.as_deref(),
            Some(format!("2027-01-{day:02}").as_str())
        );
        assert_eq!(
            planned.skipped.len(),
            1,
            "day {day}: the stopped database is skipped, not silent"
        );
        let why = planned.skipped[0].error.as_deref().unwrap_or_default();
        assert!(why.contains("skipped: the database was stopped"), "{why}");
        // Later the same day: nothing again.
        let again = plan(&mut tx, at(day, 23, 59), &schedule, &secret_box)
            .await
            .expect("plan");
        assert!(
            again.queued.is_empty() && again.skipped.is_empty(),
            "day {day} twice: {again:?}"
        );
        tx.update_backup(&planned.queued[0].id, &completed())
            .await
            .expect("completed");
        first_daily.get_or_insert(planned.queued[0].id.clone());
        // As the worker does once a daily backup completes.
        let pruned = prune(&mut tx, &running.id, schedule.retention).await.expect("prune");
        let skips_pruned: Vec<_> = planned.pruned.iter().map(|b| b.day.clone()).collect();
        if day < 8 {
            assert!(
                pruned.is_empty() && planned.pruned.is_empty(),
                "day {day}: {pruned:?} {skips_pruned:?}"
            );
        } else {
            // The eighth completed daily takes the first one's place; the eighth skip the first's.
            assert_eq!(pruned.len(), 1, "{pruned:?}");
            assert_eq!(pruned[0].day.as_deref(), Some("2027-01-01"));
            assert_eq!(skips_pruned, vec![Some("2027-01-01".to_owned())]);
            assert_eq!(planned.pruned[0].database_id, stopped.id);
        }
    }
    let first = first_daily.expect("a first daily");
    assert!(
        tx.backup_by_id(&first).await.expect("read").is_none(),
        "the oldest daily is gone"
    );
    let page = Page { page: 1, per_page: 50 };
    let kept = tx.list_backups(&scope, &running.id, page).await.expect("list").items;
    let dailies = kept
        .iter()
        .filter(|b| b.kind == BackupKind::Daily && b.status == JobStatus::Completed)
        .count();
    assert_eq!(dailies, 7, "seven completed dailies kept");
    assert!(kept.iter().any(|b| b.id == manual.id), "the manual backup stays");
    SqliteStore::commit(tx).await.expect("commit");
}
