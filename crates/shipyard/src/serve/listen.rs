//! Where `serve` listens, how many connections it takes, and what stops it.

use crate::config::Settings;
use anyhow::Context;
use shipyard_edge::ConnectionLimits;
use shipyard_store::DataDir;
use std::future::Future;
use tokio::net::TcpListener;

/// The listener `serve` answers on: the socket the process that started it handed over
/// (systemd's socket activation, `LISTEN_FDS`: fd 3), else `--listen` bound here.
pub async fn bind(settings: &Settings) -> anyhow::Result<TcpListener> {
    let mut handed = listenfd::ListenFd::from_env();
    if let Some(socket) = handed
        .take_tcp_listener(0)
        .context("the socket handed over (LISTEN_FDS) is not a TCP listener")?
    {
        socket
            .set_nonblocking(true)
            .context("the socket handed over cannot be made non-blocking")?;
        return TcpListener::from_std(socket).context("the socket handed over cannot be used");
    }
    // The edge's workers each take a socket of their own on the same port (#37).
    match shipyard_edge::listen_exclusively(settings.listen).and_then(TcpListener::from_std) {
        Ok(listener) => Ok(listener),
        Err(e) => {
            // A taken port is most often this data directory's own server, started again: say
            // that, as a start with a free port would.
            if let Err(in_use @ shipyard_store::DataDirError::InUse(_)) = DataDir::open_exclusive(&settings.data_dir) {
                return Err(in_use.into());
            }
            Err(e).with_context(|| format!("cannot listen on {}", settings.listen))
        }
    }
}

/// The listener's caps: `--max-connections` lowered, if need be, to what the open-files limit
/// (raised here to its hard limit) leaves room for: two descriptors a connection (its own and
/// an upstream one), and 1,024 for the rest of the server (databases, logs, builds).
pub(super) fn connection_limits(settings: &Settings) -> ConnectionLimits {
    let open_files = match shipyard_sandbox::open_files::raise_open_files_limit() {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "the open-files limit could not be raised");
            1024
        }
    };
    let room = usize::try_from(open_files.saturating_sub(1024) / 2).unwrap_or(usize::MAX);
    let total = settings.max_connections.min(room.max(16));
    if total < settings.max_connections {
        tracing::info!(
            open_files,
            max_connections = total,
            "the open-files limit leaves room for fewer connections than --max-connections; raise it (ulimit -n) for more"
        );
    }
    tracing::info!(
        open_files,
        max_connections = total,
        per_client = settings.max_connections_per_client,
        "connection caps"
    );
    ConnectionLimits {
        total,
        per_client: settings.max_connections_per_client,
        exempt: settings.trusted_proxies.clone(),
    }
}

/// Watches SIGINT and SIGTERM from this call on, and completes on the first. Registered before
/// the server starts, so a signal during start-up is not fatal (the default action would end the
/// process before it removes its groups and mounts): the server stops cleanly once it is up.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let watch = |kind: SignalKind| {
        let registered: std::io::Result<Signal> = signal(kind);
        async move {
            match registered {
                Ok(mut sig) => {
                    sig.recv().await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch a stop signal");
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    let (terminate, interrupt) = (watch(SignalKind::terminate()), watch(SignalKind::interrupt()));
    async move {
        tokio::select! {
            () = terminate => {}
            () = interrupt => {}
        }
        tracing::info!("shutdown signal received; finishing open requests");
    }
}
