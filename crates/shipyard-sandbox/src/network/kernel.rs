//! The kernel's way out of a sandbox (#38): a veth pair per namespace, routed and masqueraded
//! by the host's kernel, no helper process (pasta's relay cost every instance ~20 MB and every
//! registry byte a trip through user space).
//!
//! Addresses: `POOL` is cut into /30s; slot `n` is the host end `sy<n>` (`POOL + 4n + 1`) and
//! the namespace's `eth0` (`POOL + 4n + 2`), default route via the host end. A slot is taken by
//! creating its interface (the kernel refuses a second `sy<n>`), so servers sharing a host never
//! hand out one twice. DNS: sandboxes ask `DNS`, which the host rewrites to its own resolver.
//!
//! Walls, on top of each namespace's own ruleset (which refuses the whole pool, the host's
//! addresses and networks, loopback, link-local and IPv6): the host table `HOST_TABLE` drops
//! whatever a sandbox sends to another one or to the host itself, and whatever arrives for a
//! sandbox that is not an answer. A forward from the host's loopback (an instance's or a
//! database's port) is a rewrite in that table, to the namespace, where its own table
//! rewrites it to the namespace's loopback — so a process listening on 127.0.0.1 inside is
//! reached as it was through pasta.

use super::{Forward, METADATA, NetworkError, run};
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The addresses sandboxes get: a /16 of private space, refused to every sandbox.
pub(crate) const POOL: Ipv4Addr = Ipv4Addr::new(10, 251, 0, 0);
/// The pool's prefix length.
pub(crate) const POOL_LEN: u8 = 16;
/// The address sandboxes send DNS queries to (slot 0's, never an interface's).
pub(crate) const DNS: Ipv4Addr = Ipv4Addr::new(10, 251, 0, 1);
/// Slots of the pool (slot 0 is DNS's).
const SLOTS: u32 = 1 << (32 - POOL_LEN - 2);
/// The host's table, shared by every server on the host and made once.
const HOST_TABLE: &str = "inet shipyard_host";
/// Host ends of the veth pairs are named this, then the slot.
const HOST_END: &str = "sy";

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

/// The host's table: DNS rewritten to `resolver`, sandboxes' traffic masqueraded out, nothing
/// between sandboxes or from a sandbox to the host, forwards from the host's loopback in.
/// `guard`: the host did not forward packets before Shipyard turned forwarding on, so nothing
/// but sandboxes' traffic is forwarded now either.
fn host_table(resolver: Option<Ipv4Addr>, guard: bool) -> String {
    let pool = format!("{POOL}/{POOL_LEN}");
    let guard = if guard {
        format!("\t\tmeta nfproto ipv4 iifname != \"{HOST_END}*\" oifname != \"{HOST_END}*\" drop\n")
    } else {
        String::new()
    };
    // Refused inside every namespace too; here again, as these never change. Only DNS is
    // rewritten (`ct status dnat`), and a cloud's resolver may well live in 169.254.0.0/16.
    let never = ["169.254.0.0/16"]
        .iter()
        .chain(METADATA)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    let dns = resolver.map_or(String::new(), |resolver| {
        format!(
            "\t\tiifname \"{HOST_END}*\" ip daddr {DNS} meta l4proto {{ tcp, udp }} th dport 53 dnat ip to {resolver}\n"
        )
    });
    format!(
        "table {HOST_TABLE} {{\n\
         \tmap forwards {{ type inet_service : ipv4_addr . inet_service; }}\n\
         \tchain loopback_in {{\n\
         \t\ttype nat hook output priority -100; policy accept;\n\
         \t\tip daddr 127.0.0.1 dnat ip to tcp dport map @forwards\n\
         \t}}\n\
         \tchain dns {{\n\
         \t\ttype nat hook prerouting priority dstnat; policy accept;\n\
         {dns}\
         \t}}\n\
         \tchain out {{\n\
         \t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\toifname \"{HOST_END}*\" ip saddr 127.0.0.0/8 masquerade\n\
         \t\tip saddr {pool} oifname != \"{HOST_END}*\" masquerade\n\
         \t}}\n\
         \tchain forward {{\n\
         \t\ttype filter hook forward priority filter; policy accept;\n\
         \t\tiifname \"{HOST_END}*\" oifname \"{HOST_END}*\" drop\n\
         \t\tiifname \"{HOST_END}*\" ct status dnat accept\n\
         \t\tiifname \"{HOST_END}*\" ip daddr {{ {never} }} drop\n\
         \t\tiifname \"{HOST_END}*\" meta nfproto ipv6 drop\n\
         \t\toifname \"{HOST_END}*\" ct state established,related accept\n\
         \t\toifname \"{HOST_END}*\" drop\n\
         {guard}\
         \t}}\n\
         \tchain input {{\n\
         \t\ttype filter hook input priority filter; policy accept;\n\
         \t\tiifname \"{HOST_END}*\" ct state established,related accept\n\
         \t\tiifname \"{HOST_END}*\" ct status dnat accept\n\
         \t\tiifname \"{HOST_END}*\" drop\n\
         \t}}\n\
         }}\n"
    )
}

/// Writes a sysctl of the host's (`/proc/sys/…`).
fn sysctl(path: &str, value: &str) -> Result<(), NetworkError> {
    std::fs::write(path, value).map_err(|e| NetworkError::Tool {
        command: format!("write {value} to {path}"),
        detail: e.to_string(),
    })
}

/// Marks that the host did not forward before a server turned forwarding on (lost with a
/// reboot, as the setting itself is).
const FORWARDED_BEFORE: &str = "/run/shipyard/ip_forward-was-off";

/// Makes the host ready: the pool must not overlap a network the host routes (`routed`, as
/// `ip -4 route show table all` printed them), forwarding on, the host table loaded when it is
/// not yet. Why not, as an error, when the kernel path cannot be used.
pub(crate) fn prepare(resolver: Option<Ipv4Addr>, routed: &str) -> Result<(), NetworkError> {
    let unusable = |detail: String| NetworkError::Tool {
        command: "kernel networking".into(),
        detail,
    };
    for line in routed.lines() {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        if line.contains(&format!(" dev {HOST_END}")) {
            continue;
        }
        let (addr, len) = first.split_once('/').unwrap_or((first, "32"));
        let (Ok(addr), Ok(len)) = (addr.parse::<Ipv4Addr>(), len.parse::<u8>()) else {
            continue;
        };
        let shorter = len.min(POOL_LEN);
        let mask = if shorter == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(shorter))
        };
        if len > 0 && u32::from(addr) & mask == u32::from(POOL) & mask {
            return Err(unusable(format!(
                "the host routes {first}, which overlaps {POOL}/{POOL_LEN}"
            )));
        }
    }
    let forwarding = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default();
    if forwarding.trim() == "0" {
        std::fs::create_dir_all("/run/shipyard").map_err(|e| unusable(e.to_string()))?;
        std::fs::write(FORWARDED_BEFORE, "").map_err(|e| unusable(e.to_string()))?;
        sysctl("/proc/sys/net/ipv4/ip_forward", "1")?;
    }
    let guard = Path::new(FORWARDED_BEFORE).exists();
    if run(
        Command::new("nft").args(["list", "table", "inet", "shipyard_host"]),
        None,
    )
    .is_err()
    {
        // Replaced whole in one transaction: two servers starting at once load the same text.
        let text = format!(
            "table {HOST_TABLE}\ndelete table {HOST_TABLE}\n{}",
            host_table(resolver, guard)
        );
        run(Command::new("nft").args(["-f", "-"]), Some(&text))?;
    }
    Ok(())
}

/// The lines a namespace's ruleset gets on the kernel path: forwarded connections rewritten to
/// its loopback, and answers to them allowed out.
pub(crate) fn namespace_rules() -> (&'static str, &'static str) {
    (
        "\tchain loopback_in {\n\
         \t\ttype nat hook prerouting priority dstnat; policy accept;\n\
         \t\tiifname \"eth0\" meta l4proto tcp dnat ip to 127.0.0.1\n\
         \t}\n",
        "\t\tct state established,related accept\n",
    )
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
    let start = NEXT
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(std::process::id().wrapping_mul(7919));
    let netns = path.display().to_string();
    let mut taken = None;
    // A few tries: each miss is a slot another server holds.
    for n in 0..64 {
        let slot = 1 + (start.wrapping_add(n) % (SLOTS - 1));
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
    sysctl(&format!("/proc/sys/net/ipv4/conf/{name}/route_localnet"), "1")?;
    sysctl(&format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1")?;
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
            "sysctl -qw net.ipv4.conf.eth0.route_localnet=1 net.ipv6.conf.eth0.disable_ipv6=1 && exec ip -batch -",
        ]),
        Some(&format!(
            "addr add {inside}/30 dev eth0\nlink set eth0 up\nlink set lo up\nroute add default via {host}\n"
        )),
    )?;
    for forward in forwards {
        let element = format!("{{ {} : {inside} . {} }}", forward.host_port, forward.port);
        let add = || {
            run(
                Command::new("nft").args(["add", "element", "inet", "shipyard_host", "forwards", &element]),
                None,
            )
        };
        if add().is_err() {
            // A killed server's forward of the same port (its reservation went with it).
            let stale = format!("{{ {} }}", forward.host_port);
            let _ = run(
                Command::new("nft").args(["delete", "element", "inet", "shipyard_host", "forwards", &stale]),
                None,
            );
            add()?;
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
            forwards: forwards_to(addresses(slot).1),
            _reserved: Vec::new(),
        });
    }
}

/// The host ports the host table forwards to `inside`.
fn forwards_to(inside: Ipv4Addr) -> Vec<u16> {
    let Ok(listing) = run(
        Command::new("nft").args(["list", "map", "inet", "shipyard_host", "forwards"]),
        None,
    ) else {
        return Vec::new();
    };
    let target = format!(" {inside} .");
    listing
        .split(['{', '}', ','])
        .filter(|e| e.contains(&target))
        .filter_map(|e| e.split(':').next()?.trim().parse().ok())
        .collect()
}

impl Drop for Veth {
    fn drop(&mut self) {
        for port in &self.forwards {
            let element = format!("{{ {port} }}");
            let _ = run(
                Command::new("nft").args(["delete", "element", "inet", "shipyard_host", "forwards", &element]),
                None,
            );
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

    #[test]
    fn a_host_route_overlapping_the_pool_refuses_the_kernel_path_before_touching_anything() {
        for routed in ["10.0.0.0/8 dev wg0 scope link", "10.251.3.0/24 via 192.0.2.9 dev eth1"] {
            let err = prepare(Some(Ipv4Addr::new(192, 0, 2, 53)), routed).expect_err(routed);
            assert!(err.to_string().contains("overlaps 10.251.0.0/16"), "{err}");
        }
    }
}
