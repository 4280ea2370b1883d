//! `serve`'s HTTPS listener (`--listen-tls`): the operator's certificate read at start (a file
//! that cannot be used stops the start, saying why) and watched for changes, and the socket
//! the edge's workers take HTTPS connections on.

use crate::config::Settings;
use anyhow::Context;
use shipyard_edge::tls::{Certificates, GivenFiles, Https, TlsListener};
use shipyard_tasks::Tasks;
use tokio::net::TcpListener;

/// The HTTPS listener with what the edge's dispatch needs of it; None without `--listen-tls`.
pub(super) fn open(settings: &Settings, tasks: &Tasks) -> anyhow::Result<Option<(Https, TlsListener)>> {
    let Some(addr) = settings.tls.listen else {
        return Ok(None);
    };
    let certificates = Certificates::new();
    match &settings.tls.given {
        Some((cert, key)) => {
            let files = GivenFiles {
                cert: cert.clone(),
                key: key.clone(),
            };
            certificates.set_given(files.load().context("--tls-cert/--tls-key cannot be used")?);
            tasks.spawn_until_stopping("TLS certificate watch", files.watch(certificates.clone()));
        }
        None => tracing::warn!(
            "the HTTPS listener has no certificate to present (give one with --tls-cert and --tls-key); handshakes fail"
        ),
    }
    let listener = shipyard_edge::listen_exclusively(addr)
        .and_then(TcpListener::from_std)
        .with_context(|| format!("cannot listen for HTTPS on {addr}"))?;
    let port = listener
        .local_addr()
        .context("the HTTPS listener has no local address")?
        .port();
    let https = Https::new(port, certificates, settings.tls.hsts_max_age);
    let config = https.server_config().context("cannot configure TLS")?;
    Ok(Some((https, TlsListener { listener, config })))
}
