//! The batching writer: one task per log store owns the `seq` counters and commits lines in
//! batches, so a build printing a hundred thousand lines costs a few hundred transactions.

use super::{LogKind, insert_sql, now_text};
use crate::Result;
use sqlx::SqlitePool;
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot, watch};

/// Lines waiting for the writer; the bound makes a producer wait rather than grow memory.
const QUEUE: usize = 8192;
/// Lines per transaction at most.
const BATCH: usize = 2000;

enum Message {
    Line {
        stream: String,
        kind: LogKind,
        text: String,
    },
    Flush(oneshot::Sender<()>),
}

/// Appends lines to the log store.
#[derive(Clone)]
pub struct LogWriter {
    tx: mpsc::Sender<Message>,
}

impl LogWriter {
    pub(super) fn start(pool: SqlitePool, changes: watch::Sender<u64>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, changes, rx));
        Self { tx }
    }

    /// Queues one line (already redacted) for `stream`.
    pub async fn append(&self, stream: &str, kind: LogKind, text: impl Into<String>) {
        let message = Message::Line {
            stream: stream.to_owned(),
            kind,
            text: text.into(),
        };
        if self.tx.send(message).await.is_err() {
            tracing::error!(stream, "log writer has stopped; a line was not stored");
        }
    }

    /// Waits until every line queued before this call is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(pool: SqlitePool, changes: watch::Sender<u64>, mut rx: mpsc::Receiver<Message>) {
    let mut next: HashMap<String, i64> = HashMap::new();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        let mut acks = Vec::new();
        let mut lines = Vec::new();
        for message in batch {
            match message {
                Message::Line { stream, kind, text } => lines.push((stream, kind, text)),
                Message::Flush(ack) => acks.push(ack),
            }
        }
        if !lines.is_empty() {
            if let Err(e) = commit(&pool, &mut next, lines).await {
                tracing::error!(error = %e, "log lines could not be stored");
                // Forget the counters: they are re-read from the store on the next batch.
                next.clear();
            }
            changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

async fn commit(
    pool: &SqlitePool,
    next: &mut HashMap<String, i64>,
    lines: Vec<(String, LogKind, String)>,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let at = now_text();
    for (stream, kind, text) in lines {
        let seq = match next.get(&stream) {
            Some(seq) => *seq,
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
            .bind(text)
            .execute(&mut *tx)
            .await?;
        next.insert(stream, seq + 1);
    }
    tx.commit().await?;
    Ok(())
}
