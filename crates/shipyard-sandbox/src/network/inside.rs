//! Sockets made inside a sandbox's network namespace. A short-lived thread joins the namespace,
//! makes the socket and ends: joining a namespace is a thread's, so no thread of the runtime's
//! pool ever moves, and a socket stays in the namespace it was made in (connect, bind and
//! listen on it later, from any thread, happen there).

use rustix::fs::{Mode, OFlags};
use rustix::thread::LinkNameSpaceType;
use std::path::Path;
use tokio::net::TcpSocket;

/// A TCP socket inside the namespace whose file is `netns`.
pub async fn tcp_socket_inside(netns: &Path) -> std::io::Result<TcpSocket> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let netns = netns.to_owned();
    std::thread::Builder::new()
        .name("shipyard-netns".into())
        .spawn(move || {
            let _ = tx.send(join(&netns).and_then(|()| TcpSocket::new_v4()));
        })?;
    rx.await
        .map_err(|_| std::io::Error::other("the namespace's thread ended without an answer"))?
}

/// Moves this thread into the network namespace whose file is `netns`.
fn join(netns: &Path) -> std::io::Result<()> {
    // The file is the server's own (under a root-only directory); no link is followed anyway.
    let file = rustix::fs::open(
        netns,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )?;
    rustix::thread::move_into_link_name_space(std::os::fd::AsFd::as_fd(&file), Some(LinkNameSpaceType::Network))?;
    Ok(())
}
