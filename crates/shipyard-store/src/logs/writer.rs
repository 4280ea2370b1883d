//! The batching writer: one task per log store owns the `seq` counters and commits lines in
//! batches, so a build printing a hundred thousand lines costs a few hundred transactions.
//! Lines waiting for it are bounded in bytes, in all and per stream (`room`), so a flooding
//! stream waits behind its own lines, not the others.

use super::accounts::{Accounts, WorkspaceBound};
use super::room::{QUEUE_BYTES, Room, Rooms, STREAM_SHARE};
use super::{KEEP_LINES, LogKind, ROW_BYTES, insert_sql, now_text, retained};
use crate::Result;
use shipyard_tasks::Tasks;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// What a line costs the queue besides its text.
const LINE_OVERHEAD: usize = 96;
/// Lines per transaction at most.
const BATCH: usize = 2000;

/// The most of a deployment's build output (stdout and stderr) kept; the platform's own
/// system lines always land.
pub const BUILD_LOG_CAP: u64 = 50 * 1024 * 1024;

/// Streams whose output is capped at `BUILD_LOG_CAP`.
fn capped(stream: &str) -> bool {
    stream.starts_with("build:")
}

enum Message {
    Line {
        stream: String,
        kind: LogKind,
        text: String,
        // Its room in the queue, given back once the line is committed.
        room: Room,
    },
    Close(String),
    Flush(oneshot::Sender<()>),
    Claim {
        stream: String,
        tenant: String,
    },
}

/// Appends lines to the log store.
#[derive(Clone)]
pub struct LogWriter {
    // Unbounded as a channel: lines hold room in `rooms`, and closes and flushes come from
    // callers that wait for them.
    tx: mpsc::UnboundedSender<Message>,
    rooms: Rooms,
}

impl LogWriter {
    pub(super) fn start(
        pool: SqlitePool,
        changes: watch::Sender<u64>,
        bound: Option<WorkspaceBound>,
        tasks: &Tasks,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let rooms = Rooms::new(QUEUE_BYTES, STREAM_SHARE);
        let writing = run(pool, changes, rx, Accounts::new(bound), rooms.clone(), tasks.clone());
        tasks.spawn("log writer", writing);
        Self { tx, rooms }
    }

    /// Queues one line (already redacted) for `stream`, waiting for room first.
    pub async fn append(&self, stream: &str, kind: LogKind, text: impl Into<String>) {
        let text = text.into();
        let cost = text.len() + stream.len() + LINE_OVERHEAD;
        let Some(room) = self.rooms.take(stream, cost).await else {
            tracing::error!(stream, "log writer has stopped; a line was not stored");
            return;
        };
        let message = Message::Line {
            stream: stream.to_owned(),
            kind,
            text,
            room,
        };
        if self.tx.send(message).is_err() {
            tracing::error!(stream, "log writer has stopped; a line was not stored");
        }
    }

    /// Ends a stream's run: says how much output past the cap was dropped, if any, and
    /// forgets its counters.
    pub async fn close(&self, stream: &str) {
        if self.tx.send(Message::Close(stream.to_owned())).is_err() {
            tracing::error!(stream, "log writer has stopped; a stream was not closed");
        }
    }

    /// Says that `stream` belongs to workspace `tenant`, for a stream written before the row
    /// of its owner exists (a rollback's instances start before its release is recorded).
    pub fn claim(&self, stream: &str, tenant: &str) {
        let claim = Message::Claim {
            stream: stream.to_owned(),
            tenant: tenant.to_owned(),
        };
        if self.tx.send(claim).is_err() {
            tracing::error!(stream, "log writer has stopped; a stream was not claimed");
        }
    }

    /// Waits until every line queued before this call is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

/// What the writer knows of one stream.
#[derive(Default)]
struct StreamState {
    /// The next `seq`, once read from the store.
    next: Option<i64>,
    /// Output bytes stored, once read from the store.
    bytes: Option<u64>,
    dropped_lines: u64,
    dropped_bytes: u64,
}

/// The writer's memory of streams, and the cap it applies.
struct Streams {
    pool: SqlitePool,
    cap: u64,
    state: HashMap<String, StreamState>,
}

impl Streams {
    /// Output bytes a stream already holds (a second attempt appends to the first's log).
    async fn stored_bytes(&self, stream: &str) -> u64 {
        let stored: Result<i64, sqlx::Error> = sqlx::query_scalar(
            "SELECT COALESCE(SUM(LENGTH(CAST(line AS BLOB)) + ?), 0) FROM log_lines WHERE stream = ? AND kind <> 'system'",
        )
        .bind(ROW_BYTES)
        .bind(stream.to_owned())
        .fetch_one(&self.pool)
        .await;
        stored.map_or_else(
            |e| {
                tracing::warn!(stream, error = %e, "stored log size unknown; counting from zero");
                0
            },
            |n| u64::try_from(n).unwrap_or(0),
        )
    }

    /// Applies the cap to one line: the rows to store for it (none, the line, or the notice
    /// that the cap was reached).
    async fn admit(&mut self, stream: String, kind: LogKind, text: String, rows: &mut Vec<Row>) {
        if kind == LogKind::System || !capped(&stream) {
            rows.push((stream, kind, text));
            return;
        }
        let known = self.state.get(&stream).and_then(|s| s.bytes);
        let bytes = match known {
            Some(b) => b,
            None => self.stored_bytes(&stream).await,
        };
        let cap = self.cap;
        let entry = self.state.entry(stream.clone()).or_default();
        // Its row too: a flood of empty lines is no free output.
        let size = text.len() as u64 + ROW_BYTES as u64;
        if bytes + size <= cap && entry.dropped_lines == 0 {
            entry.bytes = Some(bytes + size);
            rows.push((stream, kind, text));
            return;
        }
        entry.bytes = Some(bytes);
        if entry.dropped_lines == 0 {
            rows.push((
                stream,
                LogKind::System,
                format!(
                    "the build log reached its {} MB limit; further output is dropped (the build goes on)",
                    cap >> 20
                ),
            ));
        }
        entry.dropped_lines += 1;
        entry.dropped_bytes += text.len() as u64;
    }

    /// The summary line of a stream's dropped output, and forgetting it.
    fn close(&mut self, stream: String, rows: &mut Vec<Row>) {
        if let Some(state) = self.state.remove(&stream)
            && state.dropped_lines > 0
        {
            rows.push((
                stream,
                LogKind::System,
                format!(
                    "{} lines ({:.1} MB) of output past the {} MB limit were dropped",
                    state.dropped_lines,
                    state.dropped_bytes as f64 / 1_048_576.0,
                    self.cap >> 20
                ),
            ));
        }
    }
}

type Row = (String, LogKind, String);

/// The next message; once the server is stopping, only what is already queued, so the last
/// lines (an instance's, as it was stopped) are stored before the writer ends.
async fn next(rx: &mut mpsc::UnboundedReceiver<Message>, tasks: &Tasks) -> Option<Message> {
    if tasks.is_stopping() {
        return rx.try_recv().ok();
    }
    tokio::select! {
        message = rx.recv() => message,
        () = tasks.stopping() => rx.try_recv().ok(),
    }
}

async fn run(
    pool: SqlitePool,
    changes: watch::Sender<u64>,
    mut rx: mpsc::UnboundedReceiver<Message>,
    mut accounts: Accounts,
    queue: Rooms,
    tasks: Tasks,
) {
    let mut streams = Streams {
        pool: pool.clone(),
        cap: BUILD_LOG_CAP,
        state: HashMap::new(),
    };
    while let Some(first) = next(&mut rx, &tasks).await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        let mut acks = Vec::new();
        let mut rows = Vec::new();
        let mut rooms = Vec::new();
        for message in batch {
            match message {
                Message::Line {
                    stream,
                    kind,
                    text,
                    room,
                } => {
                    rooms.push(room);
                    streams.admit(stream, kind, text, &mut rows).await;
                }
                Message::Close(stream) => streams.close(stream, &mut rows),
                Message::Flush(ack) => acks.push(ack),
                Message::Claim { stream, tenant } => accounts.claim(stream, tenant),
            }
        }
        let mut over = Vec::new();
        if !rows.is_empty() {
            let owners = accounts
                .owners(&pool, rows.iter().map(|(stream, _, _)| stream.as_str()))
                .await;
            // A failed commit is tried again with the same lines: a log never loses a batch.
            let mut backoff = Duration::from_millis(50);
            while let Err(e) = commit(&pool, &mut streams.state, &rows, &owners).await {
                tracing::error!(error = %e, retry_in_ms = backoff.as_millis() as u64, "log lines could not be stored; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
            changes.send_modify(|n| *n = n.wrapping_add(1));
            over = owners.into_values().collect();
            over.sort();
            over.dedup();
        }
        drop(rooms);
        queue.forget_idle();
        for ack in acks {
            let _ = ack.send(());
        }
        // After the room is given back and the waiters are answered: producers go on while
        // a workspace past its bound loses its oldest lines.
        if let Err(e) = accounts.enforce(&pool, over.iter()).await {
            tracing::warn!(error = %e, "a workspace's logs could not be trimmed to their bound");
        }
    }
}

async fn commit(
    pool: &SqlitePool,
    state: &mut HashMap<String, StreamState>,
    rows: &[Row],
    owners: &HashMap<String, String>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let at = now_text();
    // Seqs are taken on a copy, so a failed attempt leaves the counters as they were.
    let mut next: HashMap<&str, i64> = HashMap::new();
    for (stream, kind, text) in rows {
        let seq = match next
            .get(stream.as_str())
            .copied()
            .or_else(|| state.get(stream).and_then(|s| s.next))
        {
            Some(seq) => seq,
            None => {
                let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM log_lines WHERE stream = ?")
                    .bind(stream.clone())
                    .fetch_one(&mut *tx)
                    .await?;
                last + 1
            }
        };
        sqlx::query(insert_sql())
            .bind(stream.clone())
            .bind(seq)
            .bind(at.clone())
            .bind(kind.as_str())
            .bind(text.clone())
            .execute(&mut *tx)
            .await?;
        next.insert(stream, seq + 1);
    }
    // Counted against their workspaces in the same transaction.
    let mut added: HashMap<&str, i64> = HashMap::new();
    for (stream, _, text) in rows {
        *added.entry(stream.as_str()).or_default() += text.len() as i64 + ROW_BYTES;
    }
    for (stream, bytes) in added {
        if let Some(tenant) = owners.get(stream) {
            super::accounts::count(&mut tx, stream, tenant, bytes).await?;
        }
    }
    // A runtime or access log keeps its newest lines only.
    for (stream, next) in &next {
        if retained(stream) && next - 1 > KEEP_LINES {
            let (stream, last) = ((*stream).to_owned(), next - 1 - KEEP_LINES);
            sqlx::query(
                "UPDATE log_streams SET bytes = MAX(0, bytes - (SELECT COALESCE(SUM(LENGTH(CAST(line AS BLOB)) + ?3), 0)
                   FROM log_lines WHERE stream = ?1 AND seq <= ?2)) WHERE stream = ?1",
            )
            .bind(stream.clone())
            .bind(last)
            .bind(ROW_BYTES)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM log_lines WHERE stream = ? AND seq <= ?")
                .bind(stream)
                .bind(last)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    for (stream, seq) in next {
        state.entry(stream.to_owned()).or_default().next = Some(seq);
    }
    Ok(())
}
