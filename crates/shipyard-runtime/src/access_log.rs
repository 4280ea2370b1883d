//! Storing the edge's access-log entries: taken from its bounded queue (which the edge never
//! waits on) into each environment's access-log stream, one JSON line per entry.

use shipyard_edge::AccessEntry;
use shipyard_store::logs::{LogKind, LogWriter, access_stream};
use tokio::sync::mpsc;

/// Stores every entry that reaches the queue until the edge is gone.
pub async fn keep(mut entries: mpsc::Receiver<AccessEntry>, writer: LogWriter) {
    while let Some(entry) = entries.recv().await {
        match serde_json::to_string(&entry) {
            Ok(line) => {
                writer
                    .append(&access_stream(&entry.environment), LogKind::System, line)
                    .await
            }
            Err(e) => tracing::error!(error = %e, "an access-log entry could not be written"),
        }
    }
}
