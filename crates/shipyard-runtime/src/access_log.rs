//! Storing the edge's access-log entries: taken from its bounded, fair queue (which the edge
//! never waits on) into each environment's access-log stream, one JSON line per entry. A batch
//! is committed before the next is taken, so entries waiting to be stored wait in that queue,
//! whose bound and fairness decide what is dropped, rather than in the log writer's.

use shipyard_edge::{AccessEntries, AccessEntry};
use shipyard_store::logs::{LogKind, LogWriter, access_stream};
use shipyard_tasks::Tasks;

/// Entries taken from the queue for one commit at most.
const BATCH: usize = 1000;

/// Stores every entry that reaches the queue until the edge is gone or, once `tasks` stop,
/// what is queued then.
pub async fn keep(mut entries: AccessEntries, writer: LogWriter, tasks: Tasks) {
    while let Some(first) = next(&mut entries, &tasks).await {
        let mut batch = vec![first];
        while batch.len() < BATCH
            && let Some(entry) = entries.try_next()
        {
            batch.push(entry);
        }
        for entry in batch {
            match serde_json::to_string(&entry) {
                Ok(line) => {
                    writer
                        .append(&access_stream(&entry.environment), LogKind::System, line)
                        .await
                }
                Err(e) => tracing::error!(error = %e, "an access-log entry could not be written"),
            }
        }
        writer.flush().await;
    }
}

/// The next entry; once the server is stopping, only what is already queued.
async fn next(entries: &mut AccessEntries, tasks: &Tasks) -> Option<AccessEntry> {
    if tasks.is_stopping() {
        return entries.try_next();
    }
    tokio::select! {
        entry = entries.next() => entry,
        () = tasks.stopping() => entries.try_next(),
    }
}
