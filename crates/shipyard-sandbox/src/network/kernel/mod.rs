//! The kernel's way out of a sandbox (#38): a veth pair per namespace, routed and masqueraded
//! by the host's kernel, no helper process (pasta's relay cost every instance ~20 MB and every
//! registry byte a trip through user space).
//!
//! Addresses: `POOL` is cut into /30s; slot `n` is the host end `sy-<n>` (`POOL + 4n + 1`) and
//! the namespace's `eth0` (`POOL + 4n + 2`), default route via the host end. A slot is taken by
//! creating its interface (the kernel refuses a second `sy-<n>`), so servers sharing a host never
//! hand out one twice. DNS: sandboxes ask `DNS`, which the host rewrites to its own resolver.
//!
//! Walls, on top of each namespace's own ruleset (which refuses the whole pool, the host's
//! addresses and networks, loopback, link-local and IPv6, and takes in only the forwarded
//! ports): the host table (`host`) drops whatever a sandbox sends to another one or to the host
//! itself, whatever the host sends a sandbox other than through a forward, and whatever arrives
//! for a sandbox that is not an answer. A forward from the host's loopback (an instance's or a
//! database's port) is a rewrite in that table, to the namespace, where its own table rewrites
//! it to the namespace's loopback — so a server listening on 127.0.0.1 inside is reached as it
//! was through pasta.

use super::{Forward, NetworkError, run};
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

mod host;

pub(crate) use host::prepare;

/// The addresses sandboxes get: a /16 of private space, refused to every sandbox.
pub(crate) const POOL: Ipv4Addr = Ipv4Addr::new(10, 251, 0, 0);
/// The pool's prefix length.
pub(crate) const POOL_LEN: u8 = 16;
/// The address sandboxes send DNS queries to (slot 0's, never an interface's).
pub(crate) const DNS: Ipv4Addr = Ipv4Addr::new(10, 251, 0, 1);
/// Slots of the pool (slot 0 is DNS's).
const SLOTS: u32 = 1 << (32 - POOL_LEN - 2);
/// Host ends of the veth pairs are named this, then the slot.
const HOST_END: &str = "sy-";

/// The two addresses of `slot`: (host end, namespace end).
fn addresses(slot: u32) -> (Ipv4Addr, Ipv4Addr) {
    let base = u32::from(POOL) + 4 * slot;
    (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2))
}

/// The slot of a namespace address, when it is one.
fn slot_of(addr: Ipv4Addr) -> Option<u32> {
    let offset = u32::from(addr).checked_sub(u32::from(POOL))?;
    (offset % 4 == 2 && offset / 4 < SLOTS && offset / 4 > 0).then_some(offset / 4)
}

/// What a namespace's ruleset gets on the kernel path, given the inner ports forwarded to it:
/// chains of its own (those connections rewritten to its loopback; nothing else taken in from
/// the link), and the line that lets answers to them out.
pub(crate) fn namespace_rules(ports: &[u16]) -> (String, &'static str) {
    let rewrite = if ports.is_empty() {
        String::new()
    } else {
        let ports = ports.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        format!(
            "\tchain loopback_in {{\n\
             \t\ttype nat hook prerouting priority dstnat; policy accept;\n\
             \t\tiifname \"eth0\" tcp dport {{ {ports} }} dnat ip to 127.0.0.1\n\
             \t}}\n"
        )
    };
    let chains = format!(
        "{rewrite}\tchain input {{\n\
         \t\ttype filter hook input priority filter; policy accept;\n\
         \t\tiifname \"lo\" accept\n\
         \t\tct state established,related accept\n\
         \t\tiifname \"eth0\" ct status dnat accept\n\
         \t\tiifname \"eth0\" drop\n\
         \t}}\n"
    );
    (chains, "\t\tct state established,related accept\n")
}

/// A namespace's veth pair and the forwards into it; dropping it removes both.
#[derive(Debug)]
pub(crate) struct Veth {
    slot: u32,
    forwards: Vec<u16>,
    /// The forwarded host ports, bound (not listening) so nothing else on the host takes them.
    _reserved: Vec<OwnedFd>,
}

/// Where the next slot is looked for: spread, so servers sharing a host rarely try the same.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// Binds 127.0.0.1:`port` without listening: the port is held, nothing is accepted.
fn reserve(port: u16) -> Result<OwnedFd, NetworkError> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, bind, socket_with};
    // Close-on-exec: a copy in a child (a sandbox, a database server) would hold the port after
    // the namespace is gone, and its next start could not take it again.
    let held = socket_with(AddressFamily::INET, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .and_then(|fd| bind(&fd, &std::net::SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).map(|()| fd));
    held.map_err(|e| NetworkError::Tool {
        command: format!("bind 127.0.0.1:{port}"),
        detail: e.to_string(),
    })
}

/// Gives the namespace at `path` a veth pair of a free slot, its addresses and route, and the
/// `forwards` from the host's loopback.
pub(crate) fn attach(path: &Path, forwards: &[Forward]) -> Result<Veth, NetworkError> {
    let _reserved = forwards
        .iter()
        .map(|f| reserve(f.host_port))
        .collect::<Result<Vec<_>, _>>()?;
    let base = std::process::id().wrapping_mul(7919);
    let netns = path.display().to_string();
    let mut taken = None;
    // Each try moves the shared cursor on, so a run of held slots is passed once, not by
    // every later start.
    for _ in 0..64 {
        let slot = 1 + (base.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % (SLOTS - 1));
        let name = format!("{HOST_END}{slot}");
        let made = run(
            Command::new("ip").args([
                "link", "add", &name, "type", "veth", "peer", "name", "eth0", "netns", &netns,
            ]),
            None,
        );
        match made {
            Ok(_) => {
                taken = Some(slot);
                break;
            }
            Err(NetworkError::Tool { detail, .. }) if detail.contains("File exists") => {}
            Err(e) => return Err(e),
        }
    }
    let slot = taken.ok_or_else(|| NetworkError::Tool {
        command: "ip link add".into(),
        detail: "no free slot for a sandbox's veth pair after 64 tries".into(),
    })?;
    // From here on dropping `veth` removes the pair.
    let mut veth = Veth {
        slot,
        forwards: Vec::new(),
        _reserved,
    };
    let (host, inside) = addresses(slot);
    let name = format!("{HOST_END}{slot}");
    // Loopback-sourced forwards and DNS to a resolver on the host's loopback cross this link.
    host::sysctl(&format!("/proc/sys/net/ipv4/conf/{name}/route_localnet"), "1")?;
    // A kernel without IPv6 has no such setting, and nothing to turn off.
    if Path::new("/proc/sys/net/ipv6").exists() {
        host::sysctl(&format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1")?;
    }
    run(
        Command::new("ip").args(["-batch", "-"]),
        Some(&format!("addr add {host}/30 dev {name}\nlink set {name} up\n")),
    )?;
    let enter = format!("--net={netns}");
    run(
        Command::new("nsenter").args([
            enter.as_str(),
            "sh",
            "-c",
            "sysctl -qew net.ipv4.conf.eth0.route_localnet=1 net.ipv6.conf.eth0.disable_ipv6=1 && exec ip -batch -",
        ]),
        Some(&format!(
            "addr add {inside}/30 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via {host}\n"
        )),
    )?;
    // A forward a previous holder of this slot left (its server killed) goes first.
    host::purge(|to| to == inside);
    for forward in forwards {
        if host::forward(forward.host_port, inside, forward.port).is_err() {
            // A killed server's forward of the same port (its reservation went with it).
            host::unforward(forward.host_port);
            host::forward(forward.host_port, inside, forward.port)?;
        }
        veth.forwards.push(forward.host_port);
    }
    Ok(veth)
}

/// Removes what the namespace at `path` (a killed server's) holds on the host: its veth pair
/// and the forwards into it.
pub(crate) fn detach_stale(path: &Path) {
    let enter = format!("--net={}", path.display());
    let Ok(addrs) = run(
        Command::new("nsenter").args([enter.as_str(), "ip", "-o", "-4", "addr", "show", "dev", "eth0"]),
        None,
    ) else {
        return;
    };
    let slot = addrs
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|cidr| cidr.split('/').next()?.parse().ok())
        .and_then(slot_of);
    if let Some(slot) = slot {
        drop(Veth {
            slot,
            forwards: host::forwards_to(slot),
            _reserved: Vec::new(),
        });
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        for port in &self.forwards {
            host::unforward(*port);
        }
        let name = format!("{HOST_END}{}", self.slot);
        let _ = run(Command::new("ip").args(["link", "del", &name]), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_disjoint_thirty_twos_of_the_pool_and_dns_is_none_of_them() {
        assert_eq!(
            addresses(1),
            (Ipv4Addr::new(10, 251, 0, 5), Ipv4Addr::new(10, 251, 0, 6))
        );
        assert_eq!(
            addresses(SLOTS - 1),
            (Ipv4Addr::new(10, 251, 255, 253), Ipv4Addr::new(10, 251, 255, 254))
        );
        assert_eq!(slot_of(Ipv4Addr::new(10, 251, 0, 6)), Some(1));
        assert_eq!(slot_of(DNS), None);
        assert_eq!(
            slot_of(Ipv4Addr::new(10, 251, 0, 5)),
            None,
            "a host end is no namespace's"
        );
        assert_eq!(slot_of(Ipv4Addr::new(10, 252, 0, 2)), None);
    }
}
