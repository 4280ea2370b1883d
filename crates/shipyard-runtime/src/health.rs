//! Whether a release's instances answer: `healthCheckPath` with 2xx or 3xx from every one of
//! them (a TCP accept when the path is empty), within the release's time.

use crate::instances::Instances;
use std::time::{Duration, Instant};

/// Waits until every instance answers; `Err` says what the last attempt saw.
pub async fn wait_healthy(instances: &Instances, path: &str, within: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut last = "no instance answered yet".to_owned();
    for upstream in instances.upstreams() {
        loop {
            if instances.states().iter().any(|s| s.status == "crashed") {
                return Err(format!("its instances crashed ({last})"));
            }
            let seen = if path.is_empty() {
                tokio::net::TcpStream::connect(upstream)
                    .await
                    .map(drop)
                    .map_err(|e| format!("connecting failed: {e}"))
            } else {
                match client.get(format!("http://{upstream}{path}")).send().await {
                    Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(()),
                    Ok(r) => Err(format!("GET {path} answered {}", r.status().as_u16())),
                    Err(e) if e.is_connect() => Err(format!("GET {path}: nothing listens on the port yet")),
                    Err(e) => Err(format!("GET {path} failed: {e}")),
                }
            };
            match seen {
                Ok(()) => break,
                Err(why) => last = why,
            }
            if started.elapsed() > within {
                return Err(last);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    instances.mark_healthy();
    Ok(())
}
