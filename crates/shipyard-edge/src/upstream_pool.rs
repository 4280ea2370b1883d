//! A worker's own keep-alive connections to instances (#37): hyper's HTTP/1 client connections,
//! at most `IDLE_PER_UPSTREAM` (shared out among the workers) kept idle per instance for at most
//! `IDLE_FOR`, each taken by one request at a time: given back once its answer has been read
//! whole, and taken again only once hyper says it is ready (an app may answer before the request's
//! body has gone; the connection is busy until it has). Only the worker's thread touches its pool,
//! so the pool's lock is never contended.

use crate::inbound::Connector;
use axum::body::{Body, Bytes};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Idle keep-alive connections kept per instance, by all workers together (each keeps its share,
/// at least `IDLE_PER_UPSTREAM_LEAST`): the open-files budget counts on it not growing with them.
const IDLE_PER_UPSTREAM: usize = 64;
const IDLE_PER_UPSTREAM_LEAST: usize = 4;

/// How long a connection may wait idle for its next request before it is closed.
pub(crate) const IDLE_FOR: Duration = Duration::from_secs(30);

/// Why a request did not get an answer from an instance.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failed {
    /// No connection could be made.
    #[error("cannot connect: {0}")]
    Dial(#[source] std::io::Error),
    /// The connection failed while the request was sent or its answer awaited.
    #[error("{0}")]
    Sent(#[source] hyper::Error),
}

/// A connection waiting for its next request.
struct Kept {
    sender: SendRequest<Body>,
    since: Instant,
}

/// One worker's idle connections, by instance.
pub(crate) struct Pool {
    connector: Connector,
    idle: Mutex<HashMap<SocketAddr, Vec<Kept>>>,
    /// This worker's share of `IDLE_PER_UPSTREAM`.
    most_idle: usize,
}

impl Pool {
    /// Dialling through `connector`, for one of `workers` workers.
    pub(crate) fn new(connector: Connector, workers: usize) -> Arc<Self> {
        Arc::new(Self {
            connector,
            idle: Mutex::new(HashMap::new()),
            most_idle: (IDLE_PER_UPSTREAM / workers.max(1)).max(IDLE_PER_UPSTREAM_LEAST),
        })
    }

    /// The newest kept connection to `addr` that is ready for a request now. Closed and stale
    /// ones are dropped on the way; busy ones (still sending an earlier request's body) stay
    /// for later, or for the sweep.
    fn take(&self, addr: SocketAddr) -> Option<SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = idle.get_mut(&addr)?;
        kept.retain(|k| !k.sender.is_closed() && k.since.elapsed() < IDLE_FOR);
        let ready = kept.iter().rposition(|k| k.sender.is_ready())?;
        Some(kept.remove(ready).sender)
    }

    /// Keeps `sender` for the next request to `addr`, room permitting.
    fn give_back(&self, addr: SocketAddr, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = idle.entry(addr).or_default();
        if kept.len() < self.most_idle {
            kept.push(Kept {
                sender,
                since: Instant::now(),
            });
        }
    }

    /// Closes the connections idle past `IDLE_FOR` or closed by their instance, and forgets
    /// instances with none left (the worker calls this now and then).
    pub(crate) fn sweep(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|_, kept| {
            kept.retain(|k| !k.sender.is_closed() && k.since.elapsed() < IDLE_FOR);
            !kept.is_empty()
        });
    }

    /// A new connection to `addr`, driven by a task of the worker's runtime until either side
    /// closes it (an upgraded one, until the joined connection ends).
    async fn dial(&self, addr: SocketAddr) -> Result<SendRequest<Body>, Failed> {
        let io = self.connector.dial(addr).await.map_err(Failed::Dial)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(Failed::Sent)?;
        tokio::spawn(async move {
            if let Err(e) = connection.with_upgrades().await {
                tracing::debug!(upstream = %addr, error = %e, "an upstream connection ended early");
            }
        });
        Ok(sender)
    }

    /// Sends `request` to `addr` on a kept connection or a new one; a kept one that turns out
    /// closed before the request left is passed over for the next. The answer's body gives the
    /// connection back once it has been read whole.
    pub(crate) async fn send(
        self: &Arc<Self>,
        addr: SocketAddr,
        mut request: Request<Body>,
    ) -> Result<Response<GiveBack>, Failed> {
        while let Some(mut sender) = self.take(addr) {
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.answer(addr, sender, response)),
                Err(mut failed) => match failed.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(Failed::Sent(failed.into_error())),
                },
            }
        }
        let mut sender = self.dial(addr).await?;
        let response = sender.send_request(request).await.map_err(Failed::Sent)?;
        Ok(self.answer(addr, sender, response))
    }

    fn answer(
        self: &Arc<Self>,
        addr: SocketAddr,
        sender: SendRequest<Body>,
        response: Response<Incoming>,
    ) -> Response<GiveBack> {
        // A connection that switched protocols is the joined connection's now.
        let reusable = response.status() != hyper::StatusCode::SWITCHING_PROTOCOLS;
        response.map(|inner| {
            let mut body = GiveBack {
                inner,
                back: reusable.then(|| (self.clone(), addr, sender)),
            };
            // A bodiless answer (HEAD, 204, 304) frees the connection at once.
            if http_body::Body::is_end_stream(&body.inner) {
                body.give_back();
            }
            body
        })
    }
}

/// An instance's answer whose connection goes back to the pool once the answer has ended (one
/// dropped before its end takes its connection with it: hyper cannot reuse it).
pub(crate) struct GiveBack {
    inner: Incoming,
    back: Option<(Arc<Pool>, SocketAddr, SendRequest<Body>)>,
}

impl GiveBack {
    fn give_back(&mut self) {
        if let Some((pool, addr, sender)) = self.back.take() {
            pool.give_back(addr, sender);
        }
    }
}

impl http_body::Body for GiveBack {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.give_back(),
            Poll::Ready(Some(Ok(_))) if self.inner.is_end_stream() => self.give_back(),
            Poll::Ready(Some(Err(_))) => self.back = None,
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
