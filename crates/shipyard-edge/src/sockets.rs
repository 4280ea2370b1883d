//! One listening socket per edge worker: the kernel spreads new connections over sockets that
//! share a port with `SO_REUSEPORT`, so no worker wakes another to hand a connection over.

use socket2::{Domain, SockRef, Socket, Type};
use std::net::TcpListener;

/// Backlog of each worker's socket, as the standard library's listeners.
const BACKLOG: i32 = 1024;

/// `first` and `count - 1` more sockets listening on its address. Extra sockets join
/// `first`'s `SO_REUSEPORT` group when it has one (`listen_exclusively` makes it so); a socket
/// handed over without it is shared instead (each worker accepts from the same queue).
pub(crate) fn spread(first: TcpListener, count: usize) -> std::io::Result<Vec<TcpListener>> {
    let addr = first.local_addr()?;
    let grouped = SockRef::from(&first).reuse_port()?;
    let only_v6 = addr.is_ipv6() && SockRef::from(&first).only_v6()?;
    let mut all = Vec::with_capacity(count);
    for _ in 1..count {
        let extra = if grouped {
            let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
            if addr.is_ipv6() {
                socket.set_only_v6(only_v6)?;
            }
            socket.set_reuse_address(true)?;
            socket.set_reuse_port(true)?;
            socket.bind(&addr.into())?;
            socket.listen(BACKLOG)?;
            TcpListener::from(socket)
        } else {
            first.try_clone()?
        };
        extra.set_nonblocking(true)?;
        all.push(extra);
    }
    first.set_nonblocking(true)?;
    all.insert(0, first);
    Ok(all)
}

/// A socket listening on `addr` that the edge's workers can share: bound alone (a port someone
/// else listens on fails here, as a plain bind would, and nobody can join later unless they
/// set `SO_REUSEPORT` as the same user), and only then opened to `spread`'s sockets.
pub fn listen_exclusively(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.set_reuse_port(true)?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from(socket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_sockets_share_the_port_and_nobody_else_can_take_it() {
        let first = listen_exclusively("127.0.0.1:0".parse().expect("addr")).expect("listen");
        let addr = first.local_addr().expect("addr");
        let all = spread(first, 3).expect("spread");
        assert_eq!(all.len(), 3);
        for socket in &all {
            assert_eq!(socket.local_addr().expect("addr"), addr);
        }
        // A plain bind (no SO_REUSEPORT) on the port fails, as before the workers.
        assert!(std::net::TcpListener::bind(addr).is_err(), "the port is taken");
        // The kernel spreads connections: over 32 of them, every socket gets one.
        let clients: Vec<_> = (0..32)
            .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(100));
        for socket in &all {
            assert!(socket.accept().is_ok(), "each socket has a connection waiting");
        }
        drop(clients);
    }

    #[test]
    fn a_socket_without_reuse_port_is_shared() {
        let first = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = first.local_addr().expect("addr");
        let all = spread(first, 2).expect("spread");
        let _client = std::net::TcpStream::connect(addr).expect("connect");
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(all[1].accept().is_ok(), "the shared queue is seen by the second");
        assert!(all[0].accept().is_err(), "and taken once");
    }
}
