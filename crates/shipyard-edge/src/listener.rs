//! One worker's accepting of connections, plain or after a TLS handshake: each served by hyper (HTTP/1.1 with upgrades, or
//! HTTP/2 with prior knowledge), within the caps on open connections (`connections`), with
//! bounds on how long a client may take to send a request's headers, to send the next piece of
//! its body, and to take the next piece of the response, and on how long a connection of either
//! protocol may sit with no request in flight, so a slow, silent or idle client cannot hold a
//! connection open for nothing; and a graceful shutdown that gives open connections a few
//! seconds before they are closed.

use crate::connections::{Census, Counted};
use crate::dispatch::{Connection, Worker};
use crate::upstream_pool::IDLE_FOR;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tokio_util::task::TaskTracker;

/// How long clients may be slow or silent.
#[derive(Debug, Clone, Copy)]
pub struct ClientTimeouts {
    /// For each request's headers, and for the wait between two requests on a kept-alive
    /// connection.
    pub header: Duration,
    /// Between two pieces of a request body, and for a response write to make progress (a
    /// client that stops reading).
    pub idle: Duration,
}

/// How long open connections get to finish once shutdown begins: connections that outlast it
/// (a stuck upstream, a client that never reads) are closed rather than holding the shutdown,
/// and with it the stopping of app instances, up.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What a listener's connections speak.
#[derive(Clone)]
pub(crate) enum Wire {
    /// HTTP from the first byte.
    Plain,
    /// A TLS handshake (bounded like a request's headers), then HTTP inside it.
    Tls(tokio_rustls::TlsAcceptor),
}

/// Accepts on `listener` (one worker's socket) and serves each connection with `worker` until
/// `stopping` turns true, then lets open requests finish (for at most `SHUTDOWN_GRACE`), its
/// clients bounded by `timeouts` and `census`; counts each connection it takes in `served`.
pub(crate) async fn accept_loop(
    listener: std::net::TcpListener,
    worker: Arc<Worker>,
    wire: Wire,
    timeouts: ClientTimeouts,
    census: Arc<Census>,
    mut stopping: watch::Receiver<bool>,
    served: &AtomicU64,
) -> std::io::Result<()> {
    let listener = TcpListener::from_std(listener)?;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let connections = TaskTracker::new();
    let mut sweep = tokio::time::interval(IDLE_FOR);
    loop {
        let (stream, peer) = tokio::select! {
            _ = sweep.tick() => {
                worker.sweep();
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        // Over a cap: closed at once, before a byte is read.
        let Some(admitted) = census.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: the connection cap is reached");
            continue;
        };
        served.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        // A write that cannot progress for `idle` (the client stopped reading) fails, and
        // hyper drops the connection; upgraded connections keep the bound.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(timeouts.idle));
        let io = Counted::new(Box::pin(stream), admitted);
        let service = Connection {
            worker: worker.clone(),
            peer,
            busy: Arc::new(InFlight::new()),
            idle: timeouts.idle,
            tls: matches!(wire, Wire::Tls(_)),
        };
        let (builder, wire, stopping, quiet) = (builder.clone(), wire.clone(), stopping.clone(), timeouts.header);
        connections.spawn(async move {
            let ended = match wire {
                Wire::Plain => serve(&builder, io, service, stopping, quiet).await,
                // A client that never finishes its handshake holds a place no longer than one
                // that never finishes its headers.
                Wire::Tls(acceptor) => match tokio::time::timeout(quiet, acceptor.accept(io)).await {
                    Ok(Ok(tls)) => serve(&builder, tls, service, stopping, quiet).await,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                },
            };
            // A client that went away or timed out: worth a debug line, not a warning.
            if let Err(e) = ended {
                tracing::debug!(%peer, error = ?e, "connection ended early");
            }
        });
    }
    drop(listener);
    connections.close();
    tokio::select! {
        () = connections.wait() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open {} s after shutdown began; closing them", SHUTDOWN_GRACE.as_secs());
        }
    }
    Ok(())
}

/// Serves HTTP on `io` with `service` until the connection ends, the server stops (open
/// requests finish first) or nothing has been in flight for `quiet`.
async fn serve<IO>(
    builder: &auto::Builder<TokioExecutor>,
    io: IO,
    service: Connection,
    mut stopping: watch::Receiver<bool>,
    quiet: Duration,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let in_flight = service.busy.clone();
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(io), service)
        .into_owned();
    let mut connection = std::pin::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => Ended::Itself(ended),
        () = no_request_for(&in_flight, quiet) => Ended::Idle,
        _ = stopping.wait_for(|stop| *stop) => Ended::Stopping,
    };
    // The server stops: requests in flight finish (within the shutdown's grace), then the
    // connection closes. Idle: HTTP/2 says GOAWAY and waits for the client's answer to its
    // ping, which a client that never answers does not get to delay for long.
    match ended {
        Ended::Itself(ended) => ended,
        Ended::Stopping => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
        Ended::Idle => {
            connection.as_mut().graceful_shutdown();
            // A request that slipped in before the GOAWAY finishes; the connection is then
            // closed once nothing has been in flight for as long again.
            tokio::select! {
                ended = connection => ended,
                () = async {
                    tokio::time::sleep(quiet).await;
                    no_request_for(&in_flight, quiet).await;
                } => Ok(()),
            }
        }
    }
}

/// Why a connection's task stopped waiting for it.
enum Ended<E> {
    /// It ended by itself.
    Itself(Result<(), E>),
    /// Nothing was in flight for the quiet time.
    Idle,
    /// The server stops.
    Stopping,
}

/// Completes once a connection has had no request in flight for `quiet` (HTTP/2 has no
/// timeout of its own for this, and its pings keep a silent client's connection alive). It
/// looks at the count when its timer fires rather than being woken by every request (#37: a
/// wake-up per request start and end cost more than the look).
async fn no_request_for(in_flight: &InFlight, quiet: Duration) {
    loop {
        let wait = match in_flight.quiet_for() {
            Some(for_now) if for_now >= quiet => return,
            Some(for_now) => quiet - for_now,
            None => quiet,
        };
        tokio::time::sleep(wait).await;
    }
}

/// Requests in flight on one connection, and when that count last changed.
pub(crate) struct InFlight {
    count: AtomicUsize,
    /// Milliseconds after `since` of the last change.
    changed_ms: AtomicU64,
    since: Instant,
}

impl InFlight {
    pub(crate) fn new() -> Self {
        Self {
            count: AtomicUsize::new(0),
            changed_ms: AtomicU64::new(0),
            since: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn enter(&self) {
        self.count.fetch_add(1, Ordering::AcqRel);
        self.changed_ms.store(self.now_ms(), Ordering::Release);
    }

    fn leave(&self) {
        self.changed_ms.store(self.now_ms(), Ordering::Release);
        // Never below zero, whatever the order of drops.
        let _ = self
            .count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| Some(n.saturating_sub(1)));
    }

    /// How long nothing has been in flight; None while something is.
    fn quiet_for(&self) -> Option<Duration> {
        if self.count.load(Ordering::Acquire) > 0 {
            return None;
        }
        let changed = self.changed_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(self.now_ms().saturating_sub(changed)))
    }
}

/// One request in flight.
pub(crate) struct Busy(Arc<InFlight>);

impl Busy {
    pub(crate) fn new(busy: &Arc<InFlight>) -> Self {
        busy.enter();
        Self(busy.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.leave();
    }
}
