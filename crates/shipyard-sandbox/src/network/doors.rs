//! Doors: a port on the loopback inside a sandbox's network namespace that relays each
//! connection to the same port of the host's loopback. That is how an attached project's
//! builds and instances reach a managed database, and nothing else does (CONTRACT.md, "Who may
//! connect to whom": a sandbox cannot reach the host's loopback otherwise).
//!
//! The registry mirrors the store's attachments (`allow` on attach and at start, `revoke_*` on
//! detach and delete) and checks a grant against them when a door opens, under the same lock
//! a revoke takes: a sandbox that asks with what it read before a detach (a build that started
//! earlier, an instance restarting) gets no door, and a revoke closes the doors already open,
//! their connections with them.

use super::inside::tcp_socket_inside;
use shipyard_tasks::Tasks;
use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Connections one door relays at once: a database refuses more than its `max_connections`
/// anyway, and each costs the server two sockets. Past it the door stops accepting (the
/// kernel's backlog holds, then refuses, the rest).
pub const DOOR_CONNECTIONS: usize = 64;

/// What a door leads to (a database's port), and whose sandbox it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `db_…`
    pub database: String,
    /// The project whose sandbox it is.
    pub project: String,
    /// Its environment.
    pub environment: String,
    /// The port, inside as on the host.
    pub port: u16,
}

struct Door {
    grant: Grant,
    closed: CancellationToken,
}

/// An attachment as the registry knows it: (database, project, environment; None for all).
type Allowed = (String, String, Option<String>);

#[derive(Default)]
struct Registry {
    allowed: HashSet<Allowed>,
    open: Vec<Door>,
}

impl Registry {
    fn covers(&self, grant: &Grant) -> bool {
        let (db, project) = (grant.database.clone(), grant.project.clone());
        self.allowed.contains(&(db.clone(), project.clone(), None))
            || self.allowed.contains(&(db, project, Some(grant.environment.clone())))
    }

    /// Closes every open door the attachments no longer cover.
    fn close_uncovered(&mut self) {
        let open = std::mem::take(&mut self.open);
        for door in open {
            if self.covers(&door.grant) {
                self.open.push(door);
            } else {
                door.closed.cancel();
            }
        }
    }
}

/// Every open door of the server, and the attachments that allow them.
#[derive(Clone)]
pub struct Doors {
    registry: Arc<Mutex<Registry>>,
    tasks: Tasks,
}

/// The doors of one sandbox; dropping it closes them.
pub struct Opened {
    doors: Doors,
    tokens: Vec<CancellationToken>,
}

impl Drop for Opened {
    fn drop(&mut self) {
        for token in &self.tokens {
            token.cancel();
        }
        if let Ok(mut registry) = self.doors.registry.lock() {
            registry.open.retain(|d| !d.closed.is_cancelled());
        }
    }
}

impl Doors {
    /// No door open, nothing allowed; relays run as tasks of `tasks`.
    pub fn new(tasks: Tasks) -> Self {
        Self {
            registry: Arc::default(),
            tasks,
        }
    }

    fn registry(&self) -> std::io::Result<MutexGuard<'_, Registry>> {
        self.registry
            .lock()
            .map_err(|_| std::io::Error::other("the doors' registry is poisoned"))
    }

    /// Records an attachment: `database` may be reached from `project`'s sandboxes (of
    /// `environment`, or of all of them).
    pub fn allow(&self, database: &str, project: &str, environment: Option<&str>) {
        if let Ok(mut registry) = self.registry() {
            registry
                .allowed
                .insert((database.to_owned(), project.to_owned(), environment.map(str::to_owned)));
        }
    }

    /// Forgets one attachment and closes at once the doors nothing covers any more.
    pub fn revoke(&self, database: &str, project: &str, environment: Option<&str>) {
        if let Ok(mut registry) = self.registry() {
            let key = (database.to_owned(), project.to_owned(), environment.map(str::to_owned));
            registry.allowed.remove(&key);
            registry.close_uncovered();
        }
    }

    /// Forgets every attachment of `database` (deleted) and closes its doors.
    pub fn revoke_database(&self, database: &str) {
        if let Ok(mut registry) = self.registry() {
            registry.allowed.retain(|(db, _, _)| db != database);
            registry.close_uncovered();
        }
    }

    /// Forgets every attachment to `project` (deleted) and closes its doors.
    pub fn revoke_project(&self, project: &str) {
        if let Ok(mut registry) = self.registry() {
            registry.allowed.retain(|(_, p, _)| p != project);
            registry.close_uncovered();
        }
    }

    /// Opens a door for each of `grants` the attachments cover now, in the namespace whose
    /// file is `netns` (one per database); those they no longer cover are left shut.
    pub async fn open(&self, netns: &Path, grants: &[Grant]) -> std::io::Result<Opened> {
        let mut opened = Opened {
            doors: self.clone(),
            tokens: Vec::new(),
        };
        let mut ports = HashSet::new();
        for grant in grants.iter().filter(|g| ports.insert(g.port)) {
            let socket = tcp_socket_inside(netns).await?;
            socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, grant.port)))?;
            let listener = socket.listen(128)?;
            let closed = CancellationToken::new();
            {
                // Checked and registered under the lock a revoke takes: never both missed.
                let mut registry = self.registry()?;
                if !registry.covers(grant) {
                    continue;
                }
                registry.open.push(Door {
                    grant: grant.clone(),
                    closed: closed.clone(),
                });
            }
            opened.tokens.push(closed.clone());
            let tasks = self.tasks.clone();
            self.tasks
                .spawn_until_stopping("database door", relay(listener, grant.port, closed, tasks));
        }
        Ok(opened)
    }
}

/// Accepts on `listener` until `closed`, relaying each connection to the host's `port`; with
/// `DOOR_CONNECTIONS` relayed, it waits for one to end before accepting again.
async fn relay(listener: TcpListener, port: u16, closed: CancellationToken, tasks: Tasks) {
    let room = Arc::new(Semaphore::new(DOOR_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            () = closed.cancelled() => return,
            permit = room.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let accepted = tokio::select! {
            () = closed.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((mut inside, _)) = accepted else {
            // Out of descriptors, most likely: wait rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let closed = closed.clone();
        tasks.spawn_until_stopping("database door connection", async move {
            let _permit = permit;
            let Ok(mut host) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await else {
                return;
            };
            tokio::select! {
                () = closed.cancelled() => {}
                _ = tokio::io::copy_bidirectional(&mut inside, &mut host) => {}
            }
        });
    }
}
