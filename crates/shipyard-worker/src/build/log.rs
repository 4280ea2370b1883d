//! One build's log as the platform writes to it: every system line (commands, commit
//! subjects, errors) goes through the build's redactor, like the build's own output.

use shipyard_core::Redactor;
use shipyard_store::logs::{LogKind, LogWriter};

/// A deployment's build-log stream and the redactor its lines pass through.
#[derive(Clone)]
pub(crate) struct BuildLog {
    /// `build:<deployment>`.
    pub stream: String,
    redactor: Redactor,
    writer: LogWriter,
}

impl BuildLog {
    /// The log of `stream`, redacted with `redactor`.
    pub fn new(stream: String, redactor: Redactor, writer: LogWriter) -> Self {
        Self {
            stream,
            redactor,
            writer,
        }
    }

    /// The redactor the build's own output goes through too.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// `text` with every secret value masked.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text).into_owned()
    }

    /// Appends one system line.
    pub async fn say(&self, text: impl AsRef<str>) {
        self.writer
            .append(&self.stream, LogKind::System, self.redact(text.as_ref()))
            .await;
    }

    /// Ends the stream's run (the summary of output dropped past the cap).
    pub async fn close(&self) {
        self.writer.close(&self.stream).await;
    }

    /// Waits until every line so far is stored.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }
}
