//! `serve`'s HTTPS listener (`--listen-tls`): the operator's certificate read at start (a file
//! that cannot be used stops the start, saying why) and watched for changes, the socket the
//! edge's workers take HTTPS connections on, and the ACME issuer of verified domains'
//! certificates.

use crate::config::Settings;
use anyhow::Context;
use shipyard_core::SecretBox;
use shipyard_domains::acme::{Acme, AcmeConfig};
use shipyard_edge::RouteTable;
use shipyard_edge::tls::{Certificates, GivenFiles, Https, TlsListener};
use shipyard_store::SqliteStore;
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
            let pem = files.read().context("--tls-cert/--tls-key cannot be used")?;
            certificates.set_given(files.parse(&pem).context("--tls-cert/--tls-key cannot be used")?);
            tasks.spawn_until_stopping("TLS certificate watch", files.watch(certificates.clone(), pem));
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

/// Presents the stored certificates and starts the issuer of verified domains' certificates on
/// `tasks` (it runs only with the HTTPS listener, which presents what it gets).
pub(super) async fn issuer(
    settings: &Settings,
    (store, secret_box): (SqliteStore, SecretBox),
    https: Https,
    routes: &RouteTable,
    tasks: &Tasks,
) -> Acme {
    let acme = &settings.acme;
    let renew_before = chrono::TimeDelta::from_std(acme.renew_before).unwrap_or(chrono::TimeDelta::zero());
    let issuer = Acme::new(
        store,
        secret_box,
        https,
        AcmeConfig {
            directory: acme.directory.clone(),
            email: acme.email.clone(),
            ca_root: acme.ca_root.clone(),
            renew_before,
            live_hosts: acme.live_hosts.then(|| (routes.clone(), settings.apps_domain.clone())),
        },
    );
    if let Err(e) = issuer.present_stored().await {
        tracing::warn!(error = %e, "the stored certificates could not be read; the issuer presents them on its first pass");
    }
    issuer.spawn(tasks);
    issuer
}

/// Warns when the platform host and the apps domain share a registrable domain (taken, as the
/// ACME budget takes it, as the last two labels): an app's page could then set cookies the
/// console receives (`Domain=` of the shared parent) — Heroku and GitHub Pages keep apps on a
/// domain of their own for this. Local development (`localhost`) is left alone.
pub(super) fn warn_shared_site(settings: &Settings) {
    use shipyard_domains::acme::budget::registered_domain;
    let (platform, apps) = (&settings.platform_host, &settings.apps_domain);
    let shared = registered_domain(platform);
    if shared != "localhost" && shared.contains('.') && shared == registered_domain(apps) {
        tracing::warn!(
            platform_host = %platform,
            apps_domain = %apps,
            "the platform host and the apps domain share the registrable domain {shared}: apps' pages could set cookies the console receives; prefer an apps domain of its own (as Heroku's herokuapp.com)"
        );
    }
}
