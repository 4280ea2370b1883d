//! The data plane: `--edge-workers` threads, each with a single-threaded runtime and a listening
//! socket of its own, serving apps' requests without ever waking the control plane's runtime
//! (the way nginx, Envoy and pingora's no-steal mode run one event loop per core). The
//! platform's own requests are handed to the control plane (`dispatch`).

use crate::connections::{Census, ConnectionLimits};
use crate::dispatch::Edge;
use crate::listener::{ClientTimeouts, Wire, accept_loop};
use crate::sockets;
use crate::tls::TlsListener;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// Threads each worker may use for file reads (static sites' large files).
const BLOCKING_THREADS: usize = 64;

/// How long a stopping worker waits for file reads still running.
const BLOCKING_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// The edge's worker threads, and how many connections each has taken.
#[derive(Debug, Clone)]
pub struct Workers {
    served: Arc<[AtomicU64]>,
}

impl Workers {
    /// `count` workers.
    pub fn new(count: NonZeroUsize) -> Self {
        Self {
            served: (0..count.get()).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// How many workers there are.
    pub fn count(&self) -> usize {
        self.served.len()
    }

    /// Connections each worker has taken since the start, in worker order.
    pub fn connections_served(&self) -> Vec<u64> {
        self.served.iter().map(|n| n.load(Ordering::Relaxed)).collect()
    }
}

/// Serves `edge` on `listener` (and on `tls`'s, HTTPS) with `workers` until `shutdown`
/// completes; returns once every worker has let its open requests finish (each within its
/// grace) and its thread has ended.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsListener>,
    edge: Edge,
    shutdown: impl Future<Output = ()> + Send + 'static,
    timeouts: ClientTimeouts,
    limits: ConnectionLimits,
    workers: &Workers,
) -> std::io::Result<()> {
    let sockets = sockets::spread(listener.into_std()?, workers.count())?;
    // Each worker takes HTTPS connections on a socket of its own beside its plain one.
    let mut tls_sockets: Vec<Option<(std::net::TcpListener, Wire)>> = match tls {
        Some(TlsListener { listener, config }) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            sockets::spread(listener.into_std()?, workers.count())?
                .into_iter()
                .map(|socket| Some((socket, Wire::Tls(acceptor.clone()))))
                .collect()
        }
        None => (0..sockets.len()).map(|_| None).collect(),
    };
    // Every runtime is made before any thread starts, so a failure leaves nothing running.
    let runtimes = (0..sockets.len())
        .map(|_| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .max_blocking_threads(BLOCKING_THREADS)
                .build()
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let census = Census::new(limits);
    let (stop, stopping) = watch::channel(false);
    let mut threads = Vec::with_capacity(sockets.len());
    for (index, (socket, runtime)) in sockets.into_iter().zip(runtimes).enumerate() {
        let tls_socket = tls_sockets.get_mut(index).and_then(Option::take);
        let (ended, done) = oneshot::channel();
        let (edge, census, stopping, served) = (edge.clone(), census.clone(), stopping.clone(), workers.served.clone());
        let thread = std::thread::Builder::new()
            .name(format!("shipyard-edge-{index}"))
            .spawn(move || {
                let span = tracing::info_span!("edge worker", worker = index);
                let _entered = span.enter();
                let result = runtime.block_on(async {
                    // The worker's upstream connections are made on its own runtime.
                    let worker = Arc::new(edge.for_worker(served.len()));
                    let served = &served[index];
                    let plain = accept_loop(
                        socket,
                        worker.clone(),
                        Wire::Plain,
                        timeouts,
                        census.clone(),
                        stopping.clone(),
                        served,
                    );
                    let Some((tls_socket, wire)) = tls_socket else {
                        return plain.await;
                    };
                    let tls = accept_loop(tls_socket, worker, wire, timeouts, census, stopping, served);
                    let (plain, tls) = tokio::join!(plain, tls);
                    plain.and(tls)
                });
                // Tasks still open past the grace (joined WebSockets, stuck answers) end here,
                // and a file read stuck on a hung disk does not hold the stop.
                runtime.shutdown_timeout(BLOCKING_GRACE);
                let _ = ended.send(result);
            });
        match thread {
            Ok(thread) => threads.push((thread, done)),
            Err(e) => {
                let _ = stop.send(true);
                // The failure to start a thread is the error worth reporting.
                let _ = finish(threads).await;
                return Err(e);
            }
        }
    }
    shutdown.await;
    let _ = stop.send(true);
    finish(threads).await
}

/// Waits for each worker to end (without blocking the control plane's runtime), then joins its
/// thread; the first error any of them met is the result.
async fn finish(
    threads: Vec<(std::thread::JoinHandle<()>, oneshot::Receiver<std::io::Result<()>>)>,
) -> std::io::Result<()> {
    let mut result = Ok(());
    for (thread, done) in threads {
        let ended = done
            .await
            .unwrap_or_else(|_| Err(std::io::Error::other("an edge worker panicked")));
        // It has sent its result: all that is left of it is returning.
        let _ = thread.join();
        if result.is_ok() {
            result = ended;
        }
    }
    result
}
