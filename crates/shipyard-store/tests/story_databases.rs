//! The store story of managed databases' uids: never a project's, handed out again only once
//! the database that held one is deleted.

mod common;

use common::{new_project, owner_scope, public_connection};
use shipyard_core::DatabaseId;
use shipyard_store::{Backend, Connections, Databases, Jobs, NewDatabase, Projects, SqliteStore, StoreError};

fn new_database(id: &DatabaseId, name: &str, uid: u32, port: u16) -> NewDatabase {
    NewDatabase {
        id: id.clone(),
        name: name.into(),
        engine: "postgres".into(),
        version: "17".into(),
        port,
        uid,
        database_name: name.into(),
        username: format!("{name}_owner"),
        password_sealed: vec![1],
        superuser_password_sealed: vec![2],
        memory_mb: 256,
        disk_mb: 1024,
    }
}

#[tokio::test]
async fn a_deleted_databases_uid_is_handed_out_again_a_projects_never() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("shipyard.db")).await.expect("open");
    let mut tx = store.write().await.expect("begin");
    let scope = owner_scope(&mut tx, "dbuids@example.com", "Db uids").await;
    let conn = tx
        .create_connection(&scope, &public_connection("https://git.example.com/a/b.git"))
        .await
        .expect("connection");
    let range = 300_000..=300_002;
    let project = tx.create_project(&scope, &new_project("A", &conn.id)).await.expect("a");
    let project_uid = tx.sandbox_uid(&project.id, range.clone()).await.expect("project's uid");
    let (one, two) = (DatabaseId::generate(), DatabaseId::generate());
    let uid_one = tx.database_uid(&one, range.clone()).await.expect("one's uid");
    tx.create_database(&scope, &new_database(&one, "one", uid_one, 15001))
        .await
        .expect("one");
    let uid_two = tx.database_uid(&two, range.clone()).await.expect("two's uid");
    tx.create_database(&scope, &new_database(&two, "two", uid_two, 15002))
        .await
        .expect("two");
    assert_eq!((project_uid, uid_one, uid_two), (300_000, 300_001, 300_002));
    let three = DatabaseId::generate();
    assert!(
        matches!(
            tx.database_uid(&three, range.clone()).await,
            Err(StoreError::UidsExhausted { .. })
        ),
        "the range is used up while both databases exist"
    );
    assert!(tx.delete_database(&scope, &one).await.expect("delete one"));
    assert_eq!(
        tx.database_uid(&three, range.clone()).await.expect("three's uid"),
        uid_one,
        "the deleted database's uid is free again"
    );
    assert!(tx.delete_project(&scope, &project.id).await.expect("delete project"));
    let four = DatabaseId::generate();
    assert!(
        matches!(
            tx.database_uid(&four, range).await,
            Err(StoreError::UidsExhausted { .. })
        ),
        "a deleted project's uid stays taken"
    );
    SqliteStore::commit(tx).await.expect("commit");
}
