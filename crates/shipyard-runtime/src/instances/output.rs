//! A process's output, line by line and redacted, into a log stream (an instance's release's
//! runtime log, with its last lines kept for a failure's explanation; a one-off command's
//! stream); the small state helpers the supervisor shares.

use super::{InstanceState, LAST_LINES, MAX_LINE_BYTES};
use shipyard_core::{LineRedactor, Redactor};
use shipyard_store::logs::{LogKind, LogWriter};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::watch;

/// Resolves once a stop was asked for (the borrow of the flag ends inside).
pub(super) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

pub(super) fn set(state: &Mutex<InstanceState>, change: impl FnOnce(&mut InstanceState)) {
    if let Ok(mut s) = state.lock() {
        change(&mut s);
    }
}

pub(super) async fn pump(
    mut reader: impl AsyncRead + Unpin,
    kind: LogKind,
    redactor: Redactor,
    logs: LogWriter,
    stream: String,
    state: Option<Arc<Mutex<InstanceState>>>,
) {
    let mut lines = LineRedactor::new(redactor, MAX_LINE_BYTES);
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for text in lines.push(&buf[..n]) {
            remember(state.as_deref(), &text);
            logs.append(&stream, kind, text).await;
        }
    }
    if let Some(text) = lines.flush() {
        remember(state.as_deref(), &text);
        logs.append(&stream, kind, text).await;
    }
}

/// Keeps `line` among an instance's last lines (a one-off command keeps none).
fn remember(state: Option<&Mutex<InstanceState>>, line: &str) {
    let Some(state) = state else { return };
    set(state, |s| {
        if s.last_lines.len() == LAST_LINES {
            s.last_lines.pop_front();
        }
        s.last_lines.push_back(line.to_owned());
    });
}
