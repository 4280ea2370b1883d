//! How the proxy reaches an instance. One confined to a network namespace of its own is dialled
//! from inside that namespace (the socket is made there, by a short-lived thread that joins it),
//! so requests and answers go straight to the app over the namespace's loopback. Through pasta's
//! port forward instead, the last megabyte or two of a large answer was seen to wait until the
//! app closed its connection (Debian's pasta of 2023-03-09 and that of 2025-05-03 alike: after a
//! write towards the edge would block, it stopped watching for that side to drain). An instance
//! with no namespace of its own (`--insecure-no-sandbox`) is dialled at its host port.

use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpStream;

/// How long an instance may take to accept a connection.
const CONNECT_WITHIN: Duration = Duration::from_secs(5);

/// Where an instance listens inside its namespace.
#[derive(Debug, Clone)]
struct WayIn {
    netns: PathBuf,
    port: u16,
}

/// The ways into instances' namespaces, by the host port the edge knows each instance by.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    ways: Arc<RwLock<HashMap<u16, WayIn>>>,
}

/// An open way in; closed when dropped (the instance's process ended).
#[derive(Debug)]
pub struct Opened {
    inbound: Inbound,
    host_port: u16,
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Ok(mut ways) = self.inbound.ways.write() {
            ways.remove(&self.host_port);
        }
    }
}

impl Inbound {
    /// From now until the result is dropped, the instance known by `host_port` is dialled at
    /// `port` inside the namespace whose file is `netns`.
    pub fn open(&self, host_port: u16, netns: PathBuf, port: u16) -> Opened {
        if let Ok(mut ways) = self.ways.write() {
            ways.insert(host_port, WayIn { netns, port });
        }
        Opened {
            inbound: self.clone(),
            host_port,
        }
    }

    fn way(&self, host_port: u16) -> Option<WayIn> {
        self.ways.read().ok()?.get(&host_port).cloned()
    }
}

/// The proxy's connector: into an instance's namespace when it has one, else plain TCP.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    inbound: Inbound,
}

impl Connector {
    /// Dials through `inbound`'s ways in.
    pub(crate) fn new(inbound: Inbound) -> Self {
        Self { inbound }
    }

    /// A connection to the instance the edge knows by `addr`.
    pub(crate) async fn dial(&self, addr: SocketAddr) -> std::io::Result<TokioIo<TcpStream>> {
        if let Some(way) = self.inbound.way(addr.port()) {
            return dial_inside(way).await;
        }
        let stream = tokio::time::timeout(CONNECT_WITHIN, TcpStream::connect(addr))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "the instance did not accept in time"))??;
        stream.set_nodelay(true)?;
        Ok(TokioIo::new(stream))
    }
}

/// A connection to `way`, dialled from a socket made inside its namespace; the connect itself
/// is asynchronous, so an app that never accepts holds no thread.
async fn dial_inside(way: WayIn) -> std::io::Result<TokioIo<TcpStream>> {
    let socket = shipyard_sandbox::network::tcp_socket_inside(&way.netns).await?;
    socket.set_nodelay(true)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, way.port));
    let stream = tokio::time::timeout(CONNECT_WITHIN, socket.connect(addr))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "the instance did not accept in time"))??;
    Ok(TokioIo::new(stream))
}
