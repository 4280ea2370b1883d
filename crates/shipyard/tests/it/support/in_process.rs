//! A server inside the test process: `serve::run_with` on a runtime of its own thread, for
//! tests that need neither the server's own process (its pid, its memory, its stderr, a kill)
//! nor a second start. Optionally with stepped builds: nothing builds until the test asks.

use clap::Parser;
use shipyard::cli::{Cli, Command};
use shipyard::serve::Builds;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// A running in-process server; stopped (and awaited, bounded) when dropped.
pub struct InProcess {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    steps: Option<mpsc::Sender<oneshot::Sender<bool>>>,
}

impl InProcess {
    /// Starts `serve --data-dir <data> <extra…>` on `listener`, with builds taken by the worker
    /// or (`stepped`) only when [`InProcess::build_next`] asks.
    pub fn start(data: &Path, extra: &[&str], listener: std::net::TcpListener, stepped: bool) -> Result<Self, String> {
        let data = data.to_str().ok_or("a data directory path that is not UTF-8")?;
        let argv = ["shipyard", "serve", "--data-dir", data]
            .into_iter()
            .chain(extra.iter().copied());
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        let Command::Serve(args) = cli.command else {
            return Err("`serve` parsed as another command".to_owned());
        };
        let settings = args.resolve().map_err(|e| format!("{e:#}"))?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (builds, steps) = if stepped {
            let (asks, asked) = mpsc::channel(1);
            (Builds::Stepped(asked), Some(asks))
        } else {
            (Builds::Background, None)
        };
        let thread = std::thread::Builder::new()
            .name("in-process server".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                let served = runtime.block_on(async move {
                    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
                    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    shipyard::serve::run_with(settings, listener, shutdown, builds)
                        .await
                        .map_err(|e| format!("{e:#}"))
                });
                runtime.shutdown_timeout(Duration::from_secs(5));
                served
            })
            .map_err(|e| e.to_string())?;
        Ok(Self {
            stop: Some(stop),
            thread: Some(thread),
            steps,
        })
    }

    /// The server's error, once it ended (a failed start); None while it runs.
    pub fn ended(&mut self) -> Option<String> {
        if !self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            return None;
        }
        let ended = self.thread.take().map(JoinHandle::join);
        Some(match ended {
            Some(Ok(Ok(()))) => "the server stopped".to_owned(),
            Some(Ok(Err(e))) => e,
            Some(Err(_)) | None => "the server's thread panicked".to_owned(),
        })
    }

    /// Builds the oldest queued job to its end; false when nothing was queued.
    pub async fn build_next(&self) -> bool {
        let steps = self.steps.as_ref().expect("a server started with stepped builds");
        let (reply, answer) = oneshot::channel();
        steps.send(reply).await.expect("the server takes build steps");
        answer.await.expect("the server answers a build step")
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Shutdown waits at most 30 s for each of its stages; past a minute something hangs,
        // and the test that dropped it has already passed or failed.
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.thread.as_ref().is_some_and(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        match self.thread.take() {
            Some(thread) if thread.is_finished() => {
                if let Ok(Err(e)) = thread.join() {
                    eprintln!("the in-process server ended with an error: {e}");
                }
            }
            Some(_) => eprintln!("the in-process server did not stop within 60 s"),
            None => {}
        }
    }
}
