//! Accepting connections: each served by hyper (HTTP/1.1 with upgrades, or HTTP/2 with prior
//! knowledge), with bounds on how long a client may take to send a request's headers, to send
//! the next piece of its body, and to take the next piece of the response, so a slow or silent
//! client cannot hold a connection open for nothing; and a graceful shutdown that gives open
//! connections a few seconds before they are closed.

use crate::idle::IdleBody;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_io_timeout::TimeoutStream;

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

/// Serves `app` on `listener` until `shutdown` completes, then lets open requests finish (for
/// at most `SHUTDOWN_GRACE`), its clients bounded by `timeouts`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timeouts: ClientTimeouts,
) -> std::io::Result<()> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(timeouts.header);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // A write that cannot progress for `idle` (the client stopped reading) fails, and
        // hyper drops the connection; upgraded connections keep the bound.
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(timeouts.idle));
        let idle = timeouts.idle;
        let service = tower::util::MapRequest::new(app.clone(), move |request: hyper::Request<Incoming>| {
            let (mut head, body) = request.into_parts();
            head.extensions.insert(ConnectInfo(peer));
            hyper::Request::from_parts(head, Body::new(IdleBody::new(body, idle)))
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(Box::pin(stream)), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away or timed out: worth a debug line, not a warning.
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = ?e, "connection ended early");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("connections still open {} s after shutdown began; closing them", SHUTDOWN_GRACE.as_secs());
        }
    }
    Ok(())
}
