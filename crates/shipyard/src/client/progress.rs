//! What a waiting deploy shows on stderr: the build log, and its status either as a line kept
//! at the bottom of a terminal (spinner, coloured status, elapsed time, redrawn in place) or,
//! when nobody watches (not a terminal, or `CI` set), as plain `==> status` lines.

use super::output;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/// The longest status shown.
const STATUS_CHARS: usize = 40;
/// Clears the terminal's current line (carriage return, erase line).
const CLEAR: &str = "\r\x1b[2K";

/// The deploy's status display; log lines go through it so the status line stays below them.
pub struct Progress {
    state: Arc<Mutex<Line>>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

struct Line {
    live: bool,
    /// Set when the display ends: a tick already under way then draws nothing.
    ended: bool,
    colour: bool,
    status: String,
    started: Instant,
    frame: usize,
}

impl Progress {
    /// Starts the display at `status`; on a terminal a task redraws the spinner.
    pub fn start(status: &str) -> Self {
        let live = output::interactive() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        let colour = live && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let state = Arc::new(Mutex::new(Line {
            live,
            ended: false,
            colour,
            status: short(status),
            started: Instant::now(),
            frame: 0,
        }));
        let ticker = live.then(|| {
            let state = state.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(Duration::from_millis(100));
                loop {
                    every.tick().await;
                    let mut line = state.lock().unwrap_or_else(PoisonError::into_inner);
                    line.frame = line.frame.wrapping_add(1);
                    line.write(None);
                }
            })
        });
        Self { state, ticker }
    }

    /// Prints one line of the build log (already made printable).
    pub fn log(&self, text: &str) {
        self.lock().write(Some(text));
    }

    /// A new status: redrawn on a terminal, else printed as `==> status`.
    pub fn status(&self, status: &str) {
        let mut line = self.lock();
        line.status = short(status);
        if line.live {
            line.write(None);
        } else {
            eprintln!("==> {status}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Line> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `status` cut to `STATUS_CHARS`, so the line never wraps (a wrapped line cannot be cleared
/// in place).
fn short(status: &str) -> String {
    status.chars().take(STATUS_CHARS).collect()
}

impl Drop for Progress {
    /// Stops the spinner and clears its line, so what follows starts on a clean line.
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            ticker.abort();
        }
        let mut line = self.lock();
        line.ended = true;
        if line.live {
            eprint!("{CLEAR}");
        }
    }
}

impl Line {
    /// Writes `log` (if any) and, on a terminal, the status line below it, in one write.
    fn write(&self, log: Option<&str>) {
        if self.ended {
            return;
        }
        let mut out = String::new();
        if self.live {
            out.push_str(CLEAR);
        }
        if let Some(log) = log {
            out.push_str(log);
            out.push('\n');
        }
        if self.live {
            let spinner = SPINNER[self.frame % SPINNER.len()];
            let status = self.painted();
            let secs = self.started.elapsed().as_secs();
            out.push_str(&format!("{spinner} {status} · {secs}s"));
        }
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(out.as_bytes()).and_then(|()| stderr.flush());
    }

    /// The status, in its colour when colour is on (green ready, red failed, yellow canceled).
    fn painted(&self) -> String {
        if !self.colour {
            return self.status.clone();
        }
        let code = match self.status.as_str() {
            "ready" => "32",
            "failed" => "31",
            "canceled" => "33",
            _ => "36",
        };
        format!("\x1b[{code}m{}\x1b[0m", self.status)
    }
}
