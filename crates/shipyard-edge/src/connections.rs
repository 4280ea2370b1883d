//! How many connections the listener holds: at most so many in all and so many from one client
//! (an IPv6 client counts by its /64, which one host usually owns whole), so one address cannot
//! take every descriptor the process has.

use ipnet::IpNet;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The caps on open connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// In all.
    pub total: usize,
    /// From one client address (an IPv6 client's /64).
    pub per_client: usize,
    /// Peers counted only in the total: trusted proxies, whose connections carry many clients.
    pub exempt: Vec<IpNet>,
}

/// Open connections, counted as they are admitted and as they end.
#[derive(Debug)]
pub(crate) struct Census {
    limits: ConnectionLimits,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// One admitted connection; its end is counted when this is dropped.
#[derive(Debug)]
pub(crate) struct Admitted {
    census: Arc<Census>,
    client: Option<IpAddr>,
}

/// The address a client is counted under.
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

impl Census {
    /// Counting under `limits`.
    pub(crate) fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            open: Mutex::new(Counts::default()),
        })
    }

    /// Admits a connection from `peer`, or None when a cap is reached.
    pub(crate) fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Admitted> {
        // A dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`.
        let peer = peer.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.limits.total {
            return None;
        }
        let exempt = self.limits.exempt.iter().any(|net| net.contains(&peer));
        let client = (!exempt).then(|| client_key(peer));
        if let Some(client) = client {
            let from_client = open.by_client.entry(client).or_default();
            if *from_client >= self.limits.per_client {
                return None;
            }
            *from_client += 1;
        }
        open.total += 1;
        Some(Admitted {
            census: self.clone(),
            client,
        })
    }

    /// Connections open now, in all.
    #[cfg(test)]
    fn total(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).total
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.census.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(client) = self.client
            && let Some(n) = open.by_client.get_mut(&client)
        {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&client);
            }
        }
    }
}

/// A connection's socket with its place in the census: the place goes when the socket does,
/// also when an upgrade (a WebSocket) outlives the HTTP connection that made it.
pub(crate) struct Counted<IO> {
    io: IO,
    _admitted: Admitted,
}

impl<IO> Counted<IO> {
    pub(crate) fn new(io: IO, admitted: Admitted) -> Self {
        Self {
            io,
            _admitted: admitted,
        }
    }
}

impl<IO: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Counted<IO> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Counted<IO> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_share_and_the_total_holds_and_ends_are_counted() {
        let census = Census::new(ConnectionLimits {
            total: 5,
            per_client: 2,
            exempt: vec!["10.0.0.1/32".parse().expect("net")],
        });
        let one: IpAddr = "192.0.2.1".parse().expect("ip");
        let first = census.admit(one).expect("first");
        let _second = census.admit(one).expect("second");
        assert!(census.admit(one).is_none(), "a third from one client");
        drop(first);
        let _third = census.admit(one).expect("room again once one ends");
        // One IPv6 host counts by its /64, whatever address of it dials.
        let v6a: IpAddr = "2001:db8::1".parse().expect("ip");
        let v6b: IpAddr = "2001:db8::ffff:2".parse().expect("ip");
        let _a = census.admit(v6a).expect("v6");
        let _b = census.admit(v6b).expect("v6");
        assert!(census.admit("2001:db8::3".parse().expect("ip")).is_none());
        // A trusted proxy meets only the total, also as an IPv4-mapped address.
        let proxy: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        let _p = census.admit(proxy).expect("proxy");
        assert_eq!(census.total(), 5);
        assert!(census.admit(proxy).is_none(), "the total holds");
    }
}
