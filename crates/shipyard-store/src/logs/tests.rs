//! Retention of runtime and access logs: the newest `KEEP_LINES` lines of a stream, none older
//! than `KEEP_FOR` (but always its newest line), and build logs untouched by either.

use super::{KEEP_FOR, KEEP_LINES, LogKind, LogStore, PAGE_BYTES, insert_sql};
use crate::sqlite::rows::ts;
use chrono::Utc;

async fn store() -> (tempfile::TempDir, LogStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::open(&dir.path().join("logs.db")).await.expect("open");
    (dir, logs)
}

#[tokio::test]
async fn a_runtime_log_keeps_its_newest_lines_and_says_where_they_start() {
    let (_dir, logs) = store().await;
    let writer = logs.writer();
    let total = KEEP_LINES + 25;
    for n in 1..=total {
        writer
            .append("runtime:rel_a", LogKind::Stdout, format!("line {n}"))
            .await;
        if n <= 30 {
            writer.append("build:dep_a", LogKind::Stdout, format!("line {n}")).await;
        }
    }
    writer.flush().await;
    assert_eq!(logs.first_seq("runtime:rel_a").await.expect("first"), Some(26));
    assert_eq!(logs.last_seq("runtime:rel_a").await.expect("last"), total);
    assert_eq!(logs.truncated_before("runtime:rel_a", 0).await.expect("t"), Some(26));
    assert_eq!(logs.truncated_before("runtime:rel_a", 25).await.expect("t"), None);
    assert_eq!(
        logs.truncated_before("runtime:rel_a", i64::MAX).await.expect("t"),
        None,
        "a cursor past every seq is no overflow"
    );
    let page = logs.read("runtime:rel_a", 0, 1).await.expect("read");
    assert_eq!((page[0].seq, page[0].line.as_str()), (26, "line 26"));
    assert_eq!(
        logs.first_seq("build:dep_a").await.expect("first"),
        Some(1),
        "build logs are not cut"
    );
}

#[tokio::test]
async fn lines_older_than_seven_days_go_but_each_streams_newest_stays() {
    let (_dir, logs) = store().await;
    let old = ts(Utc::now() - KEEP_FOR - chrono::TimeDelta::hours(1));
    let recent = ts(Utc::now());
    let rows = [
        ("access:env_a", 1, &old),
        ("access:env_a", 2, &old),
        ("access:env_a", 3, &recent),
        ("runtime:rel_b", 1, &old),
        ("runtime:rel_b", 2, &old),
        ("build:dep_c", 1, &old),
    ];
    for (stream, seq, at) in rows {
        sqlx::query(insert_sql())
            .bind(stream)
            .bind(seq)
            .bind(at.as_str())
            .bind("system")
            .bind("x")
            .execute(&logs.pool)
            .await
            .expect("insert");
    }
    assert_eq!(logs.prune_old().await.expect("prune"), 3);
    assert_eq!(logs.first_seq("access:env_a").await.expect("first"), Some(3));
    assert_eq!(
        logs.first_seq("runtime:rel_b").await.expect("first"),
        Some(2),
        "the newest line stays, so seq carries on after a restart"
    );
    assert_eq!(
        logs.first_seq("build:dep_c").await.expect("first"),
        Some(1),
        "build logs are not cut"
    );
}

#[tokio::test]
async fn a_page_of_long_lines_stops_at_its_byte_bound_and_the_next_carries_on() {
    let (_dir, logs) = store().await;
    let writer = logs.writer();
    let line = "x".repeat(16 * 1024);
    for _ in 0..200 {
        writer.append("build:dep_b", LogKind::Stdout, line.clone()).await;
    }
    writer.flush().await;
    let first = logs.read("build:dep_b", 0, 10_000).await.expect("read");
    let bytes: usize = first.iter().map(|l| l.line.len()).sum();
    assert!(bytes >= PAGE_BYTES && bytes <= PAGE_BYTES + line.len(), "{bytes}");
    let mut seqs: Vec<i64> = first.iter().map(|l| l.seq).collect();
    for _ in 0..10 {
        let after = *seqs.last().expect("a line");
        let next = logs.read("build:dep_b", after, 10_000).await.expect("read");
        if next.is_empty() {
            break;
        }
        seqs.extend(next.iter().map(|l| l.seq));
    }
    assert_eq!(
        seqs,
        (1..=200).collect::<Vec<_>>(),
        "nothing lost or repeated between pages"
    );
}
