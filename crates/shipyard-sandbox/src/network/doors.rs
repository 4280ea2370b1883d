//! Doors: a port on the loopback inside a sandbox's network namespace that relays each
//! connection to the same port of the host's loopback. That is how an attached project's
//! builds and instances reach a managed database, and nothing else does (CONTRACT.md, "Who may
//! connect to whom": a sandbox cannot reach the host's loopback otherwise). A door opens with
//! the sandbox's network and closes with it, or at once when its database is detached
//! (`Doors::revoke`), its relayed connections with it.

use super::inside::tcp_socket_inside;
use shipyard_tasks::Tasks;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Connections one door relays at once: a database refuses more than its `max_connections`
/// anyway, and each costs the server two sockets.
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

/// Every open door of the server.
#[derive(Clone)]
pub struct Doors {
    open: Arc<Mutex<Vec<Door>>>,
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
        if let Ok(mut open) = self.doors.open.lock() {
            open.retain(|d| !d.closed.is_cancelled());
        }
    }
}

impl Doors {
    /// No door open; relays run as tasks of `tasks`.
    pub fn new(tasks: Tasks) -> Self {
        Self {
            open: Arc::default(),
            tasks,
        }
    }

    /// Opens a door for each of `grants` in the namespace whose file is `netns`.
    pub async fn open(&self, netns: &Path, grants: &[Grant]) -> std::io::Result<Opened> {
        let mut opened = Opened {
            doors: self.clone(),
            tokens: Vec::new(),
        };
        for grant in grants {
            let socket = tcp_socket_inside(netns).await?;
            socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, grant.port)))?;
            let listener = socket.listen(128)?;
            let closed = CancellationToken::new();
            if let Ok(mut open) = self.open.lock() {
                open.push(Door {
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

    /// Closes at once every door to `database` in `project`'s sandboxes whose environment
    /// `still_attached` no longer says yes to.
    pub fn revoke(&self, database: &str, project: &str, still_attached: impl Fn(&str) -> bool) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        open.retain(|door| {
            let g = &door.grant;
            let goes = g.database == database && g.project == project && !still_attached(&g.environment);
            if goes {
                door.closed.cancel();
            }
            !goes
        });
    }
}

/// Accepts on `listener` until `closed`, relaying each connection (at most `DOOR_CONNECTIONS`
/// at once; more are closed as they come) to the host's `port`.
async fn relay(listener: TcpListener, port: u16, closed: CancellationToken, tasks: Tasks) {
    let room = Arc::new(Semaphore::new(DOOR_CONNECTIONS));
    loop {
        let accepted = tokio::select! {
            () = closed.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((inside, _)) = accepted else {
            // Out of descriptors, most likely: wait rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(permit) = room.clone().try_acquire_owned() else {
            continue;
        };
        let closed = closed.clone();
        tasks.spawn_until_stopping("database door connection", async move {
            let _permit = permit;
            let Ok(mut host) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await else {
                return;
            };
            let mut inside = inside;
            tokio::select! {
                () = closed.cancelled() => {}
                _ = tokio::io::copy_bidirectional(&mut inside, &mut host) => {}
            }
        });
    }
}
