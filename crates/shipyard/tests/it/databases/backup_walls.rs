//! A backup runs what the tenant wrote, and the tenant wrote it to get out (#35): a check
//! constraint that tries to make its role a superuser as the rows are restored, and a cast of
//! its row type to text that tries the same when the platform reads the rows' fingerprint.
//! Each fires (positive controls) and the role stays what it was. (A restore runs with an
//! empty search path, as pg_dump's output sets it: the tenant's functions name their schemas.)

use crate::support::TestServer;
use crate::support::databases::{RunningDatabase, psql};
use serde_json::json;

/// SQL that makes the tenant's role a superuser when the session can, then leaves a row.
const ESCALATE: &str = "BEGIN \
    BEGIN RESET ROLE; EXECUTE format('ALTER ROLE %I SUPERUSER', (SELECT rolname FROM pg_catalog.pg_roles WHERE rolname LIKE '%_owner' LIMIT 1)); \
    EXCEPTION WHEN others THEN NULL; END; \
    INSERT INTO public.ran (who, session_who) VALUES (current_user, session_user); \
    RETURN true; END";

#[tokio::test]
async fn restored_checks_and_row_casts_never_run_with_the_platforms_rights() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let RunningDatabase { id, url, .. } = ada
        .running_database(&json!({ "name": "sly", "engine": "postgres", "limits": { "memoryMb": 128, "diskMb": 256 } }))
        .await;
    let setup = format!(
        "CREATE TABLE ran (who text, session_who text); \
         CREATE FUNCTION sneaky(int) RETURNS bool LANGUAGE plpgsql AS $f${ESCALATE}$f$; \
         CREATE TABLE guarded (x int CHECK (sneaky(x))); INSERT INTO guarded VALUES (1); \
         CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items VALUES (1, 'a'); \
         CREATE FUNCTION as_text(items) RETURNS text LANGUAGE plpgsql AS $f$BEGIN PERFORM public.sneaky(0); RETURN 'CAST-RAN'; END$f$; \
         CREATE CAST (items AS text) WITH FUNCTION as_text(items); \
         DELETE FROM ran"
    );
    psql(&url, &setup).expect("the tenant's traps");
    let superuser = "SELECT rolsuper FROM pg_roles WHERE rolname = current_user";
    assert_eq!(psql(&url, superuser), Ok("f".to_owned()));
    // Positive control: the cast fires for the tenant's own reads of a row as text.
    assert_eq!(psql(&url, "SELECT items::text FROM items"), Ok("CAST-RAN".to_owned()));
    psql(&url, "DELETE FROM ran").expect("clear");

    // The proof restores the dump as the tenant: the check fires (it writes a row the source
    // lacks, so the copy differs and the proof says which table), the role stays as it was,
    // and no fingerprint read ran the cast (it would have failed the proof on its read-only
    // write first).
    let backup = ada.backup_taken(&id).await;
    assert_eq!(backup["status"], "failed", "{backup}");
    let why = backup["error"].as_str().expect("error");
    assert!(
        why.contains("table public.ran has 1 rows in the restored copy, 0 in the source"),
        "{why}"
    );
    assert_eq!(
        psql(&url, superuser),
        Ok("f".to_owned()),
        "the restore made the tenant a superuser"
    );
    assert_eq!(psql(&url, "SELECT count(*) FROM ran"), Ok("0".to_owned()));
}
