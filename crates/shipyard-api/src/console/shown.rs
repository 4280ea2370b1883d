//! How pages show what the API answers: log lines with their colours as classes, commits short.

use super::ansi::{Segment, segments};
use shipyard_api_types::logs::LogPage;

/// A log line ready for the template: its seq, stream and styled segments.
pub struct ShownLine {
    /// Its place in the stream.
    pub seq: i64,
    /// stdout, stderr or system.
    pub stream: &'static str,
    /// Its text with colours as classes.
    pub segments: Vec<Segment>,
}

/// A commit's first twelve characters.
pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// A page of log lines as the template shows them.
pub fn shown_lines(page: &LogPage) -> Vec<ShownLine> {
    page.items
        .iter()
        .map(|l| ShownLine {
            seq: l.seq,
            stream: l.stream.as_str(),
            segments: segments(&l.line),
        })
        .collect()
}
