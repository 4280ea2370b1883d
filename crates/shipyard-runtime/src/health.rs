//! Whether instances answer: `healthCheckPath` with 2xx or 3xx (a TCP accept when the path is
//! empty). Each running instance is watched from its start to its exit: it takes requests
//! from its first answer on, and stops taking them after three failed checks in a row. A new
//! release waits for every instance's first answer within its time.

use crate::instances::{InstanceState, InstanceStatus, Instances};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a starting instance is asked (a refused connection costs next to nothing, and
/// half an interval on average is time a deploy waits), and how often a healthy one.
const STARTING_EVERY: Duration = Duration::from_millis(5);
const HEALTHY_EVERY: Duration = Duration::from_secs(5);
/// How often a new release's waiter looks at its instances' states (a few locks: cheap, and
/// on the deploy's path like the interval above).
const WAIT_EVERY: Duration = Duration::from_millis(2);
/// Failed checks in a row after which a healthy instance is `unhealthy` (and takes no requests).
const FAILURES_UNHEALTHY: u32 = 3;

/// One check of `upstream`; `Err` says what it saw.
async fn probe(client: &reqwest::Client, upstream: SocketAddr, path: &str) -> Result<(), String> {
    if path.is_empty() {
        return tokio::net::TcpStream::connect(upstream)
            .await
            .map(drop)
            .map_err(|e| format!("connecting failed: {e}"));
    }
    match client.get(format!("http://{upstream}{path}")).send().await {
        Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(()),
        Ok(r) => Err(format!("GET {path} answered {}", r.status().as_u16())),
        Err(e) if e.is_connect() => Err(format!("GET {path}: nothing listens on the port yet")),
        Err(e) => Err(format!("GET {path} failed: {e}")),
    }
}

/// Checks one running instance until it is aborted (when its process ends).
pub(crate) async fn watch(upstream: SocketAddr, path: String, state: Arc<Mutex<InstanceState>>) {
    // One client for every check: building one would cost each start time. Checks are plain
    // HTTP to the instance's port, so it trusts no root at all: a host without CA certificates
    // (where loading the system's roots fails) still checks its instances.
    static CLIENT: std::sync::OnceLock<Option<reqwest::Client>> = std::sync::OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        shipyard_edge::tls::install_provider();
        reqwest::Client::builder()
            .tls_certs_only([])
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            // A fresh connection each time: a restarted instance answers on the same port.
            .pool_max_idle_per_host(0)
            .build()
            .ok()
    });
    let Some(client) = client else { return };
    let mut failures = 0;
    loop {
        let seen = probe(client, upstream, &path).await;
        let healthy = if let Ok(mut s) = state.lock() {
            match &seen {
                Ok(()) => {
                    failures = 0;
                    if s.status != InstanceStatus::Draining {
                        s.status = InstanceStatus::Healthy;
                    }
                    s.serving.store(true, Ordering::Relaxed);
                }
                Err(why) => {
                    failures += 1;
                    s.last_probe = why.clone();
                    if s.status == InstanceStatus::Healthy && failures >= FAILURES_UNHEALTHY {
                        s.status = InstanceStatus::Unhealthy;
                        s.serving.store(false, Ordering::Relaxed);
                    }
                }
            }
            s.status != InstanceStatus::Starting
        } else {
            return;
        };
        tokio::time::sleep(if healthy { HEALTHY_EVERY } else { STARTING_EVERY }).await;
    }
}

/// Waits until every instance has answered once; `Err` says what the last check saw.
pub async fn wait_healthy(instances: &Instances, within: Duration) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let states = instances.states();
        if states.iter().all(|s| s.status == InstanceStatus::Healthy) {
            return Ok(());
        }
        let waiting = states.iter().find(|s| s.status != InstanceStatus::Healthy);
        let last = waiting.map_or_else(String::new, |s| s.last_probe.clone());
        if states.iter().any(|s| s.status == InstanceStatus::Crashed) {
            return Err(format!("its instances crashed ({last})"));
        }
        if started.elapsed() > within {
            return Err(last);
        }
        tokio::time::sleep(WAIT_EVERY).await;
    }
}
