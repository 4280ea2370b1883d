//! `shipyard serve`: opens the data directory, the store, the log store and the listener,
//! starts the build worker, and runs the edge with the API behind it until a shutdown signal.

use crate::config::Settings;
use anyhow::Context;
use shipyard_api::{ApiSettings, AppState, Services, api_router};
use shipyard_build::build::{Limits, Sandbox, SandboxConfig};
use shipyard_build::{Git, Repositories};
use shipyard_databases::{Clusters, ClustersConfig, Engines};
use shipyard_edge::{AccessLog, ClientTimeouts, Edge, EdgeConfig, RouteTable, Workers};
use shipyard_runtime::{Driver, Runtime};
use shipyard_store::logs::LogStore;
use shipyard_store::{DataDir, SqliteStore};
use shipyard_tasks::Tasks;
use shipyard_worker::{Worker, WorkerParts, WorkerSettings};
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};

mod guards;
mod listen;
mod tls;

use guards::{GroupsRemovedOnExit, MountsRemovedOnExit};
pub use listen::{bind, shutdown_signal};

/// How long shutdown waits for background tasks once every instance is stopped.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Who takes queued builds.
pub enum Builds {
    /// The build worker, `--build-concurrency` builds at a time: what a server does.
    Background,
    /// Nobody until asked: each sender received here has the oldest queued job built to its
    /// end and is told whether there was one. Tests step the queue with it instead of racing
    /// the worker.
    Stepped(mpsc::Receiver<oneshot::Sender<bool>>),
}

/// Runs the platform on `listener` until `shutdown` completes.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with(settings, listener, shutdown, Builds::Background).await
}

/// Runs the platform on `listener` until `shutdown` completes, its builds taken as `builds` says.
pub async fn run_with(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    builds: Builds,
) -> anyhow::Result<()> {
    // As `main` does: a server run inside another process (tests) needs it as much.
    shipyard_edge::tls::install_provider();
    let git = Git::version()?;
    let data_dir = DataDir::open_exclusive(&settings.data_dir)?;
    // Made now rather than on first use, so a key problem shows at start, not mid-request.
    let secret_box = data_dir.secret_box()?;
    let layout = data_dir.layout()?;
    let repos = Arc::new(
        Repositories::new(layout.repos(), &layout.git_home()).context("cannot prepare the repository mirrors")?,
    );
    let limits = Limits {
        memory_bytes: settings.build_memory,
        pids: settings.build_pids,
        cpu_millis: None,
    };
    let sandbox = Sandbox::detect(SandboxConfig {
        hidden: layout.private_roots(),
        insecure: settings.insecure_no_sandbox,
        limits,
        cgroup_root: settings.cgroup_root.clone(),
        state_dir: layout.sandbox_state(),
        network: settings.sandbox_network,
    })?;
    let _groups = GroupsRemovedOnExit(sandbox.clone());
    let build_disks = shipyard_sandbox::Disks::new(sandbox.is_confined());
    let workspaces = shipyard_sandbox::Workspaces::new(layout.workspaces(), sandbox.is_confined());
    let home_disks = shipyard_sandbox::Disks::new(sandbox.is_confined());
    let database_disks = shipyard_sandbox::Disks::new(sandbox.is_confined());
    let mounts = MountsRemovedOnExit {
        layout: layout.clone(),
        build_disks: build_disks.clone(),
        home_disks: home_disks.clone(),
        database_disks: database_disks.clone(),
        workspaces: workspaces.clone(),
    };
    // What a previous run on this data directory left (a killed server's relays, namespaces
    // and groups) goes before anything of this run starts, or it would take this run's too.
    sandbox.remove_stale();
    // Its disks too: workspaces' disks are mounted again below, build disks when their project
    // builds; HOMEs are made fresh for each start of an instance.
    let left = mounts.unmount_inner() + shipyard_sandbox::disk::unmount_below(&layout.workspaces());
    if left > 0 {
        tracing::warn!(disks = left, "disks a previous run left mounted were unmounted");
    }
    let _ = std::fs::remove_dir_all(layout.instances());
    // Held until the server stops: no other server on this host hands out these uids.
    let _uids = if sandbox.is_confined() {
        Some(shipyard_sandbox::uid_range::reserve(&settings.sandbox_uids)?)
    } else {
        None
    };
    let store = SqliteStore::open(&layout.database())
        .await
        .with_context(|| format!("cannot open the database {}", layout.database().display()))?;
    let bound = shipyard_store::logs::WorkspaceBound {
        store: store.clone(),
        bytes: settings.log_bytes_per_workspace,
    };
    let logs = LogStore::open_bounded(&layout.logs_database(), Some(bound))
        .await
        .context("cannot open the log store logs.db")?;
    data_dir
        .prepare_for_builds()
        .context("cannot prepare the data directory for builds")?;
    let connection_limits = listen::connection_limits(&settings);
    let addr = listener.local_addr().context("listener has no local address")?;

    // Every background task of this server, awaited at shutdown before the groups and disks go.
    let tasks = Tasks::new();
    let routes = RouteTable::default();
    // The edge never waits on its access log: a full queue drops (and counts) the heaviest
    // environment's newest entry.
    let buffer = usize::try_from(settings.access_log_buffer).unwrap_or(usize::MAX);
    let (access, access_entries) = AccessLog::new(buffer);
    tasks.spawn(
        "access log",
        shipyard_runtime::access_log::keep(access_entries, logs.writer(), tasks.clone()),
    );
    let inbound = shipyard_edge::Inbound::default();
    let runtime = Runtime::new(
        routes.clone(),
        access.clone(),
        workspaces.clone(),
        settings.apps_domain.clone(),
        tasks.clone(),
    )
    .with_driver(
        Driver {
            sandbox: sandbox.clone(),
            logs: logs.writer(),
            root: layout.instances(),
            uids: settings.sandbox_uids.clone(),
            inbound: inbound.clone(),
            disks: home_disks,
            workspaces: workspaces.clone(),
            doors: shipyard_sandbox::network::Doors::new(tasks.clone()),
        },
        settings.health_timeout,
    );
    shipyard_worker::storage::open(&store, &workspaces, layout.legacy())
        .await
        .context("cannot open the workspaces' disks")?;
    runtime
        .allow_attached(&store)
        .await
        .context("cannot read the databases' attachments")?;
    // Every active release serves at once, without a rebuild.
    runtime
        .sync(&store)
        .await
        .context("cannot build the route table from the database")?;
    // Server releases come back in the background: the listener need not wait for them.
    tasks.spawn_until_stopping("bring up", {
        let (runtime, store, secret_box) = (runtime.clone(), store.clone(), secret_box.clone());
        async move { runtime.bring_up(&store, &secret_box).await }
    });
    let jobs_queued = Arc::new(Notify::new());
    let worker = Worker::new(
        WorkerParts {
            store: store.clone(),
            logs: logs.clone(),
            repos: repos.clone(),
            secret_box: secret_box.clone(),
            sandbox: sandbox.clone(),
            runtime: runtime.clone(),
            build_disks,
        },
        WorkerSettings {
            layout: layout.clone(),
            concurrency: settings.build_concurrency,
            timeout: settings.build_timeout,
            release_retention: settings.release_retention,
            sandbox_uids: settings.sandbox_uids.clone(),
            go_live_watch: settings.go_live_watch,
            build_disk: settings.build_disk,
            artifact_max: settings.artifact_max,
        },
        jobs_queued.clone(),
    );
    worker
        .recover()
        .await
        .context("cannot recover builds interrupted by the last shutdown")?;
    let databases = Clusters::new(ClustersConfig {
        engines: Engines::discover(&settings.postgres_root),
        sandbox: sandbox.clone(),
        disks: database_disks,
        workspaces: workspaces.clone(),
        mounts: layout.database_mounts(),
        control: layout.database_control(),
        store: store.clone(),
        secret_box: secret_box.clone(),
        tasks: tasks.clone(),
        uids: settings.sandbox_uids.clone(),
        schedule: settings.backup_schedule,
        logs: logs.writer(),
    });
    // Every database that ran (or was being made) when the server stopped comes back.
    let resumed = databases.resume().await.context("cannot read the databases to start")?;
    if resumed > 0 {
        tracing::info!(databases = resumed, "starting managed databases");
    }
    let domains = shipyard_domains::Here::new(
        settings.apps_domain.clone(),
        settings.public_addresses.clone(),
        shipyard_domains::Dns::new(settings.dns_resolver).context("cannot set up the DNS resolver for domains")?,
    );
    shipyard_domains::recheck::spawn(&tasks, store.clone(), runtime.clone(), domains.clone());

    let tls = tls::open(&settings, &tasks)?;
    let tls_addr = tls.as_ref().and_then(|(_, tls)| tls.listener.local_addr().ok());
    let (https, tls_listener) = tls.unzip();
    let api_settings = ApiSettings {
        platform_host: settings.platform_host.clone(),
        allow_signup: settings.allow_signup,
        apps_domain: settings.apps_domain.clone(),
        public_port: Some(addr.port()),
        https: https.clone(),
        allow_local_repos: settings.allow_local_repos,
        local_repos_root: settings.local_repos_root.clone(),
        layout: layout.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
        release_retention: settings.release_retention,
    };
    let acme = match &https {
        Some(https) => Some(
            tls::issuer(
                &settings,
                (store.clone(), secret_box.clone()),
                https.clone(),
                &routes,
                &tasks,
            )
            .await,
        ),
        None => None,
    };
    let api = api_router(AppState::new(
        store.clone(),
        api_settings,
        secret_box,
        Services {
            repos,
            logs: logs.clone(),
            jobs_queued,
            runtime: runtime.clone(),
            databases: databases.clone(),
            domains: domains.clone(),
            acme,
        },
    ));
    let edge = Edge::new(
        EdgeConfig {
            platform_host: settings.platform_host.clone(),
            apps_domain: settings.apps_domain.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            idle_timeout: settings.idle_timeout,
            inbound,
            https,
        },
        api,
        routes,
        access,
    );

    // Tests and scripts read this line to learn the port when listening on :0.
    announce(format_args!(
        "shipyard listening on http://{addr} (API and console: {}, apps: *.{}, data: {})",
        settings.platform_host,
        settings.apps_domain,
        data_dir.root().display()
    ));
    if let Some(tls_addr) = tls_addr {
        announce(format_args!("shipyard listening for HTTPS on https://{tls_addr}"));
    }
    tls::warn_shared_site(&settings);
    announce(format_args!(
        "builds: {} at a time; {}",
        settings.build_concurrency,
        sandbox.describe()
    ));
    if layout.work_is_own() {
        // The data directory sits below a directory others cannot enter (e.g. /root), so the
        // sandbox users could not reach a workspace inside it.
        announce(format_args!(
            "build workspaces and caches: {} (sandbox users cannot reach into the data directory)",
            layout.work().display()
        ));
    }
    let _ = std::io::stdout().flush();
    tracing::info!(%git, local_repos = settings.allow_local_repos, "repositories are read with the git CLI");

    let (stop_worker, worker_stop) = watch::channel(false);
    let worker_task = match builds {
        Builds::Background => tasks.spawn("build worker", worker.run(worker_stop)),
        Builds::Stepped(asks) => tasks.spawn("stepped build worker", stepped(worker, asks, worker_stop)),
    };
    let followers = logs.clone();
    let shutdown = async move {
        shutdown.await;
        followers.end_followers();
    };
    let served = shipyard_edge::serve(
        listener,
        tls_listener,
        edge,
        shutdown,
        ClientTimeouts {
            header: settings.header_timeout,
            idle: settings.idle_timeout,
        },
        connection_limits,
        &Workers::new(settings.edge_workers),
    )
    .await
    .context("listener failed");
    let _ = stop_worker.send(true);
    let _ = worker_task.await;
    // Every instance this server started stops with it; then every background task ends (those
    // that may stop anywhere at once, the access-log keeper once it passed on what is queued, a
    // rollback once it is done) before the store closes and the groups and disks go.
    runtime.stop_all().await;
    databases.stop_all().await;
    tasks.stop_and_wait(SHUTDOWN_WAIT).await;
    // Last, once nothing else appends: the log writer stores what is queued and ends.
    logs.close(SHUTDOWN_WAIT).await;
    // A connection still borrowed (a request the edge stopped waiting for) must not hold the
    // stop forever.
    if tokio::time::timeout(SHUTDOWN_WAIT, store.close()).await.is_err() {
        tracing::warn!("the database was still in use at shutdown; stopping without waiting for it");
    }
    tracing::info!("shipyard stopped");
    served
}

/// Builds one queued job per ask until `stop` turns true or nobody can ask any more.
async fn stepped(worker: Worker, mut asks: mpsc::Receiver<oneshot::Sender<bool>>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            ask = asks.recv() => match ask {
                Some(reply) => {
                    let _ = reply.send(worker.run_one().await);
                }
                None => return,
            },
            _ = stop.changed() => return,
        }
    }
}

/// Prints a line for whoever started the server: a closed stdout (`serve | head -1`) is no
/// reason for the server to stop.
fn announce(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
