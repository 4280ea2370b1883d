//! `shipyard serve`: opens the data directory, the store, the log store and the listener,
//! starts the build worker, and runs the edge with the API behind it until a shutdown signal.

use crate::config::Settings;
use anyhow::Context;
use shipyard_api::{ApiSettings, AppState, api_router};
use shipyard_build::build::{Limits, Sandbox, SandboxConfig};
use shipyard_build::{Git, Repositories};
use shipyard_edge::{AccessLog, ClientTimeouts, ConnectionLimits, EdgeConfig, RouteTable, edge_router};
use shipyard_runtime::{Driver, Runtime};
use shipyard_store::logs::LogStore;
use shipyard_store::{DataDir, Layout, SqliteStore};
use shipyard_tasks::Tasks;
use shipyard_worker::{Worker, WorkerParts, WorkerSettings};
use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

/// How long shutdown waits for background tasks once every instance is stopped.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Removes the server's cgroup directories however `run` ends, a start that fails after the
/// sandbox is set up included; declared before everything that runs in them, it goes last.
struct GroupsRemovedOnExit(Sandbox);

impl Drop for GroupsRemovedOnExit {
    fn drop(&mut self) {
        self.0.remove_own_groups();
    }
}

/// Unmounts the server's disks however `run` ends (a panic on a closed stdout included): build
/// disks and instances' HOMEs (waiting for one being mounted, and refusing any after), then the
/// workspaces' disks that held both, and the sandboxes' tmpfs; a work root of its own outside
/// the data directory goes too, once empty. Declared after the groups' guard, it goes before it.
struct MountsRemovedOnExit {
    layout: Layout,
    build_disks: shipyard_sandbox::Disks,
    home_disks: shipyard_sandbox::Disks,
    workspaces: shipyard_sandbox::Workspaces,
}

impl MountsRemovedOnExit {
    /// Unmounts the disks inside workspaces' disks (build disks, HOMEs); returns how many.
    fn unmount_inner(&self) -> usize {
        [self.layout.project_mounts(), self.layout.instances()]
            .iter()
            .map(|dir| shipyard_sandbox::disk::unmount_below(dir))
            .sum()
    }
}

impl Drop for MountsRemovedOnExit {
    fn drop(&mut self) {
        self.build_disks.close();
        self.home_disks.close();
        self.unmount_inner();
        self.workspaces.close();
        shipyard_sandbox::disk::unmount_below(&self.layout.workspaces());
        shipyard_sandbox::disk::unmount_if_mounted(&self.layout.sandbox_state());
        if self.layout.work_is_own() {
            shipyard_sandbox::disk::remove_empty_dirs(self.layout.work());
        }
    }
}

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
    match TcpListener::bind(settings.listen).await {
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

/// Runs the platform on `listener` until `shutdown` completes.
pub async fn run(
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
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
    })?;
    let _groups = GroupsRemovedOnExit(sandbox.clone());
    let build_disks = shipyard_sandbox::Disks::new(sandbox.is_confined());
    let workspaces = shipyard_sandbox::Workspaces::new(layout.workspaces(), sandbox.is_confined());
    let home_disks = shipyard_sandbox::Disks::new(sandbox.is_confined());
    let mounts = MountsRemovedOnExit {
        layout: layout.clone(),
        build_disks: build_disks.clone(),
        home_disks: home_disks.clone(),
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
    let connection_limits = connection_limits(&settings);
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
        },
        settings.health_timeout,
    );
    shipyard_worker::storage::open(&store, &workspaces, layout.legacy())
        .await
        .context("cannot open the workspaces' disks")?;
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

    let api_settings = ApiSettings {
        platform_host: settings.platform_host.clone(),
        allow_signup: settings.allow_signup,
        apps_domain: settings.apps_domain.clone(),
        public_port: Some(addr.port()).filter(|p| *p != 80),
        allow_local_repos: settings.allow_local_repos,
        local_repos_root: settings.local_repos_root.clone(),
        layout: layout.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
        release_retention: settings.release_retention,
    };
    let api = api_router(AppState::new(
        store.clone(),
        api_settings,
        secret_box,
        repos,
        logs.clone(),
        jobs_queued,
        runtime.clone(),
    ));
    let edge = edge_router(
        EdgeConfig {
            platform_host: settings.platform_host.clone(),
            apps_domain: settings.apps_domain.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            idle_timeout: settings.idle_timeout,
            inbound,
        },
        api,
        routes,
        access,
    );

    // Tests and scripts read this line to learn the port when listening on :0.
    println!(
        "shipyard listening on http://{addr} (API and console: {}, apps: *.{}, data: {})",
        settings.platform_host,
        settings.apps_domain,
        data_dir.root().display()
    );
    println!(
        "builds: {} at a time; {}",
        settings.build_concurrency,
        sandbox.describe()
    );
    if layout.work_is_own() {
        // The data directory sits below a directory others cannot enter (e.g. /root), so the
        // sandbox users could not reach a workspace inside it.
        println!(
            "build workspaces and caches: {} (sandbox users cannot reach into the data directory)",
            layout.work().display()
        );
    }
    std::io::stdout().flush().context("stdout")?;
    tracing::info!(%git, local_repos = settings.allow_local_repos, "repositories are read with the git CLI");

    let (stop_worker, worker_stop) = watch::channel(false);
    let worker_task = tasks.spawn("build worker", worker.run(worker_stop));
    let followers = logs.clone();
    let shutdown = async move {
        shutdown.await;
        followers.end_followers();
    };
    let served = shipyard_edge::serve(
        listener,
        edge,
        shutdown,
        ClientTimeouts {
            header: settings.header_timeout,
            idle: settings.idle_timeout,
        },
        connection_limits,
    )
    .await
    .context("listener failed");
    let _ = stop_worker.send(true);
    let _ = worker_task.await;
    // Every instance this server started stops with it; then every background task ends (those
    // that may stop anywhere at once, the access-log keeper once it passed on what is queued, a
    // rollback once it is done) before the store closes and the groups and disks go.
    runtime.stop_all().await;
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

/// The listener's caps: `--max-connections` lowered, if need be, to what the open-files limit
/// (raised here to its hard limit) leaves room for: two descriptors a connection (its own and
/// an upstream one), and 1,024 for the rest of the server (databases, logs, builds).
fn connection_limits(settings: &Settings) -> ConnectionLimits {
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
