//! The host's side of the kernel path: the shared table `inet shipyard_host` (its rules loaded
//! again by every server's start, its forwards kept), forwarding turned on only once that table
//! guards it, and the checks that send `auto` to pasta where the kernel path cannot work.

use super::{DNS, HOST_END, POOL, POOL_LEN, SLOTS, addresses, slot_of};
use crate::network::{METADATA, NetworkError, run};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;

/// The table's name, as nft's commands take it.
pub(super) const TABLE: [&str; 2] = ["inet", "shipyard_host"];
/// New connections one sandbox may have tracked at once: its own share of the host's
/// connection-tracking table, which every forwarded flow (and the edge's) needs.
const FLOWS_PER_SANDBOX: u32 = 2048;
/// Marks that the host did not forward before a server turned forwarding on (lost with a
/// reboot, as the setting itself is).
const FORWARDED_BEFORE: &str = "/run/shipyard/ip_forward-was-off";
/// The base chains, with their hooks: declared (a no-op when they exist), emptied and filled
/// in one transaction.
const CHAINS: [(&str, &str); 8] = [
    ("loopback_in", "type nat hook output priority -100"),
    ("dns", "type nat hook prerouting priority dstnat"),
    ("out", "type nat hook postrouting priority srcnat"),
    ("early", "type filter hook prerouting priority -150"),
    ("forward", "type filter hook forward priority filter"),
    ("input", "type filter hook input priority filter"),
    ("output", "type filter hook output priority filter"),
    ("guard", "type filter hook forward priority filter + 1"),
];

/// The rules of each chain. `guard`: the host did not forward packets before a server turned
/// forwarding on, so nothing but sandboxes' traffic is forwarded now either.
fn rules(resolver: Option<Ipv4Addr>, guard: bool) -> [(&'static str, String); 8] {
    let ours = format!("\"{HOST_END}*\"");
    let pool = format!("{POOL}/{POOL_LEN}");
    // Refused inside every namespace too; here again, as these never change.
    let never = [pool.as_str(), "169.254.0.0/16"]
        .into_iter()
        .chain(METADATA.iter().copied())
        .collect::<Vec<_>>()
        .join(", ");
    // Only DNS sent to `DNS` is let through to the resolver, wherever that lives (a cloud's
    // may well be in 169.254.0.0/16, a desktop's on the host's loopback).
    let asked_dns = format!("ct original ip daddr {DNS} meta l4proto {{ tcp, udp }} th dport 53");
    let dns = resolver.map_or(String::new(), |resolver| {
        format!("iifname {ours} ip daddr {DNS} meta l4proto {{ tcp, udp }} th dport 53 dnat ip to {resolver}\n")
    });
    [
        (
            "loopback_in",
            "ip daddr 127.0.0.1 dnat ip to tcp dport map @forwards\n".to_owned(),
        ),
        ("dns", dns),
        (
            "out",
            format!("oifname {ours} ip saddr 127.0.0.0/8 masquerade\nip saddr {pool} oifname != {ours} masquerade\n"),
        ),
        (
            "early",
            // A sandbox speaks from its own address only (route_localnet would let it use
            // 127/8), and holds a bounded share of tracked connections.
            format!(
                "iifname {ours} ip saddr != {pool} drop\n\
                 iifname {ours} ct state new add @flows {{ ip saddr ct count over {FLOWS_PER_SANDBOX} }} drop\n"
            ),
        ),
        (
            "forward",
            format!(
                "iifname {ours} oifname {ours} drop\n\
                 iifname {ours} {asked_dns} accept\n\
                 iifname {ours} ip daddr {{ {never} }} drop\n\
                 iifname {ours} meta nfproto ipv6 drop\n\
                 oifname {ours} ct state established,related accept\n\
                 oifname {ours} drop\n"
            ),
        ),
        (
            "input",
            format!(
                "iifname {ours} ct state established,related accept\n\
                 iifname {ours} {asked_dns} accept\n\
                 iifname {ours} drop\n"
            ),
        ),
        (
            "output",
            // The host reaches a sandbox only through a forward of its loopback port.
            format!(
                "oifname {ours} ct original ip daddr 127.0.0.1 accept\n\
                 oifname {ours} ct state established,related accept\n\
                 oifname {ours} drop\n"
            ),
        ),
        (
            "guard",
            if guard {
                format!("meta nfproto ipv4 iifname != {ours} oifname != {ours} drop\n")
            } else {
                String::new()
            },
        ),
    ]
}

/// The transaction that (re)loads the table: declarations, then each chain emptied and filled.
fn transaction(resolver: Option<Ipv4Addr>, guard: bool) -> String {
    let [family, name] = TABLE;
    let mut text = format!(
        "table {family} {name} {{\n\
         \tmap forwards {{ type inet_service : ipv4_addr . inet_service; }}\n\
         \tset flows {{ type ipv4_addr; size 65535; flags dynamic; }}\n"
    );
    for (chain, hook) in CHAINS {
        text.push_str(&format!("\tchain {chain} {{ {hook}; policy accept; }}\n"));
    }
    text.push_str("}\n");
    for (chain, rules) in rules(resolver, guard) {
        text.push_str(&format!("flush chain {family} {name} {chain}\n"));
        for rule in rules.lines() {
            text.push_str(&format!("add rule {family} {name} {chain} {rule}\n"));
        }
    }
    text
}

/// Why the pool cannot be used on a host that routes `routed` (`ip -4 route show table all`):
/// a network it routes overlaps it.
fn overlap(routed: &str) -> Option<String> {
    const TYPES: [&str; 8] = [
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "throw",
    ];
    for line in routed.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_some_and(|w| TYPES.contains(w)) {
            words.next();
        }
        let Some(destination) = words.next() else { continue };
        // Our own links, and links being removed as the listing ran (`ip` names an interface
        // it can no longer look up `if<index>`: another server's sandbox ending).
        let dev = line
            .split_whitespace()
            .skip_while(|w| *w != "dev")
            .nth(1)
            .unwrap_or_default();
        let numbered = |prefix: &str| dev.strip_prefix(prefix).and_then(|n| n.parse::<u32>().ok());
        if numbered(HOST_END).is_some_and(|slot| slot < SLOTS) || numbered("if").is_some() {
            continue;
        }
        let (addr, len) = destination.split_once('/').unwrap_or((destination, "32"));
        let (Ok(addr), Ok(len)) = (addr.parse::<Ipv4Addr>(), len.parse::<u8>()) else {
            continue;
        };
        let shorter = u32::from(len.min(POOL_LEN));
        let mask = if shorter == 0 { 0 } else { u32::MAX << (32 - shorter) };
        if len > 0 && u32::from(addr) & mask == u32::from(POOL) & mask {
            return Some(format!(
                "the host routes {destination}, which overlaps {POOL}/{POOL_LEN}"
            ));
        }
    }
    None
}

/// Why another table's chains would drop what the kernel path needs (Docker's, ufw's or
/// firewalld's `policy drop` on forwarded packets; on input too when DNS goes to a resolver on
/// the host's loopback), from `nft list chains`.
fn foreign_drop(chains: &str, loopback_resolver: bool) -> Option<String> {
    let mut table = "";
    for line in chains.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("table ") {
            table = name.trim_end_matches(" {");
        }
        let hooks = if loopback_resolver {
            &["forward", "input"][..]
        } else {
            &["forward"][..]
        };
        let dropping = line.contains("policy drop") && hooks.iter().any(|h| line.contains(&format!("hook {h} ")));
        if dropping && table != TABLE.join(" ") {
            return Some(format!("the host's table {table} drops packets by default ({line})"));
        }
    }
    None
}

/// Writes a sysctl of the host's (`/proc/sys/…`).
pub(super) fn sysctl(path: &str, value: &str) -> Result<(), NetworkError> {
    std::fs::write(path, value).map_err(|e| NetworkError::Tool {
        command: format!("write {value} to {path}"),
        detail: e.to_string(),
    })
}

/// Makes the host ready, or says why the kernel path cannot be used: the pool overlaps nothing
/// the host routes (`routed`), no other table drops what it needs, the host table is loaded
/// (rules fresh, forwards kept, those of slots no interface holds any more removed), and only
/// then forwarding is on.
pub(crate) fn prepare(resolver: Option<Ipv4Addr>, routed: &str) -> Result<(), NetworkError> {
    let unusable = NetworkError::KernelUnusable;
    if overlap(routed).is_some() {
        // Looked at again: a listing may catch the routes of a link being removed (another
        // server's sandbox ending), which are gone a moment later; a real overlap stays.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let again = run(Command::new("ip").args(["-4", "route", "show", "table", "all"]), None)?;
        if let Some(why) = overlap(&again) {
            return Err(unusable(why));
        }
    }
    let chains = run(Command::new("nft").args(["list", "chains"]), None)?;
    if let Some(why) = foreign_drop(&chains, resolver.is_some_and(|r| r.is_loopback())) {
        return Err(unusable(why));
    }
    let forwarding = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap_or_default();
    let off = forwarding.trim() == "0";
    let guard = off || Path::new(FORWARDED_BEFORE).exists();
    run(
        Command::new("nft").args(["-f", "-"]),
        Some(&transaction(resolver, guard)),
    )?;
    purge(|inside| slot_of(inside).is_none_or(|slot| !Path::new(&format!("/sys/class/net/{HOST_END}{slot}")).exists()));
    if off {
        let marked = std::fs::create_dir_all("/run/shipyard").and_then(|()| std::fs::write(FORWARDED_BEFORE, ""));
        marked.map_err(|e| unusable(format!("cannot write {FORWARDED_BEFORE}: {e}")))?;
        sysctl("/proc/sys/net/ipv4/ip_forward", "1")?;
    }
    Ok(())
}

/// The table's forwards: (host port, namespace address).
fn forwards() -> Vec<(u16, Ipv4Addr)> {
    let mut list = Command::new("nft");
    list.args(["list", "map"]).args(TABLE).arg("forwards");
    let Ok(listing) = run(&mut list, None) else {
        return Vec::new();
    };
    listing
        .split(['{', '}', ','])
        .filter_map(|element| {
            let (port, to) = element.split_once(':')?;
            let (addr, _) = to.split_once(" . ")?;
            Some((port.trim().parse().ok()?, addr.trim().parse().ok()?))
        })
        .collect()
}

/// Removes the forward of host port `port`.
pub(super) fn unforward(port: u16) {
    let mut delete = Command::new("nft");
    delete
        .args(["delete", "element"])
        .args(TABLE)
        .args(["forwards", &format!("{{ {port} }}")]);
    let _ = run(&mut delete, None);
}

/// Adds the forward of host port `port` to `inside`:`inner`.
pub(super) fn forward(port: u16, inside: Ipv4Addr, inner: u16) -> Result<(), NetworkError> {
    let mut add = Command::new("nft");
    add.args(["add", "element"])
        .args(TABLE)
        .args(["forwards", &format!("{{ {port} : {inside} . {inner} }}")]);
    run(&mut add, None).map(drop)
}

/// Removes every forward whose namespace address `stale` says is no longer held.
pub(super) fn purge(stale: impl Fn(Ipv4Addr) -> bool) {
    for (port, inside) in forwards() {
        if stale(inside) {
            unforward(port);
        }
    }
}

/// The forwards to `slot`'s namespace address.
pub(super) fn forwards_to(slot: u32) -> Vec<u16> {
    let inside = addresses(slot).1;
    forwards()
        .into_iter()
        .filter(|(_, a)| *a == inside)
        .map(|(port, _)| port)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_route_overlapping_the_pool_is_found_whatever_its_type() {
        for routed in [
            "10.0.0.0/8 dev wg0 scope link",
            "10.251.3.0/24 via 192.0.2.9 dev eth1",
            "local 10.251.7.7 dev eth0 table local proto kernel scope host src 10.251.7.7",
            "blackhole 10.251.0.0/20",
        ] {
            let why = overlap(routed).unwrap_or_else(|| panic!("{routed}"));
            assert!(why.contains("overlaps 10.251.0.0/16"), "{why}");
        }
        // Positive control: other networks, the default route and the pool's own links pass.
        let fine = "default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0 proto kernel\n\
                    10.251.0.4/30 dev sy-1 proto kernel scope link src 10.251.0.5\n\
                    local 10.251.0.5 dev sy-1 table local proto kernel scope host src 10.251.0.5\n\
                    local 10.251.184.181 dev if11821 table local proto kernel scope host src 10.251.184.181\n";
        assert_eq!(overlap(fine), None);
        assert!(
            overlap("10.251.0.4/30 dev sync0 scope link").is_some(),
            "a look-alike name is not ours"
        );
    }

    #[test]
    fn another_tables_drop_policy_on_forwarded_packets_sends_auto_to_pasta() {
        let docker = "table ip filter {\n\tchain FORWARD {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n}\n";
        let why = foreign_drop(docker, false).expect("Docker's FORWARD drop");
        assert!(why.contains("ip filter"), "{why}");
        let ufw_input =
            "table inet ufw {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n";
        assert_eq!(
            foreign_drop(ufw_input, false),
            None,
            "input matters only for a resolver on loopback"
        );
        assert!(foreign_drop(ufw_input, true).is_some());
        let ours = "table inet shipyard_host {\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t}\n}\n";
        assert_eq!(foreign_drop(ours, true), None);
    }

    #[test]
    fn the_transaction_declares_then_empties_and_fills_every_chain_and_keeps_the_forwards() {
        let text = transaction(Some(Ipv4Addr::new(192, 0, 2, 53)), true);
        assert!(!text.contains("delete"), "the forwards map is never deleted: {text}");
        for (chain, _) in CHAINS {
            let flush = text
                .find(&format!("flush chain inet shipyard_host {chain}\n"))
                .expect(chain);
            let declared = text.find(&format!("chain {chain} {{")).expect(chain);
            assert!(declared < flush, "{chain}");
        }
        assert!(text.contains("dnat ip to 192.0.2.53"), "{text}");
        assert!(
            text.contains("add rule inet shipyard_host guard meta nfproto ipv4"),
            "{text}"
        );
        assert!(
            !transaction(None, false).contains("guard meta"),
            "no guard when the host forwarded already"
        );
    }
}
