//! A network namespace of its own for every sandbox, as CONTRACT.md's "Who may connect to
//! whom" says: the registries and the internet yes; the host's loopback, its own addresses,
//! 169.254.0.0/16 and other sandboxes no.
//!
//! The server (root) makes the namespace (a file under `NETNS_DIR`) and loads an nftables ruleset
//! into it. Its traffic leaves by the kernel's routing (`kernel`: a veth pair, no helper
//! process) where the host allows, else through `pasta` (Debian's `passt`), which relays it
//! through host sockets:
//! `--no-map-gw` keeps the gateway from meaning the host, `-T none -U none` forwards no host
//! port into it (pasta's default would forward every port bound on the host's loopback), and
//! `-t none -u none` forwards none out. The ruleset refuses loopback, link-local and the host's
//! addresses, which pasta would otherwise dial on the namespace's behalf. The namespace belongs
//! to the host's user namespace, so nothing inside the sandbox (no capability there, not even
//! root of a nested user namespace) can change the rules.
//!
//! DNS goes through the host's resolver even when that lives on the host's loopback
//! (systemd-resolved's 127.0.0.53): pasta answers queries sent to the gateway address
//! (`--dns-forward`) by asking the host's first nameserver, and the sandbox's
//! `/etc/resolv.conf` names that address.

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

mod doors;
mod inside;
mod kernel;
mod namespace;

pub use doors::{DOOR_CONNECTIONS, Doors, Grant, Opened};
pub use inside::tcp_socket_inside;
pub(crate) use namespace::prepare_dir;
pub use namespace::{NETNS_DIR, Network};

/// The nftables table every sandbox namespace holds.
pub const TABLE: &str = "inet shipyard";

/// Why a sandbox's network could not be made.
#[derive(Debug, Error)]
pub enum NetworkError {
    /// A tool failed.
    #[error("cannot set up the sandbox's network: `{command}` failed: {detail}")]
    Tool {
        /// What ran.
        command: String,
        /// Its error output or status.
        detail: String,
    },
    /// pasta did not bring the interface up in time.
    #[error("cannot set up the sandbox's network: pasta did not configure the namespace within {0} s")]
    NotReady(u64),
    /// The kernel's path cannot be used on this host (`--sandbox-network kernel`), and why.
    #[error("the kernel's routing cannot be used for sandboxes: {0}")]
    KernelUnusable(String),
}

/// A port of the host's loopback that pasta forwards to a port inside the namespace: the
/// edge's one way in to an instance. Other sandboxes cannot use it: they cannot reach the
/// host's loopback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// On 127.0.0.1 of the host.
    pub host_port: u16,
    /// Inside the namespace.
    pub port: u16,
}

/// How sandboxes' traffic leaves their namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uplink {
    /// A veth pair per namespace, routed and masqueraded by the host's kernel.
    Kernel,
    /// A `pasta` relay process per namespace.
    Pasta,
}

/// Which uplink the server is asked for (`--sandbox-network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UplinkChoice {
    /// The kernel's where the host allows it, else pasta (the start-up banner says why).
    #[default]
    Auto,
    /// The kernel's, or no start.
    Kernel,
    /// pasta.
    Pasta,
}

/// What every sandbox network refuses, fixed at start.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    /// How traffic leaves.
    uplink: Uplink,
    /// The host's own addresses (every interface's).
    host_addresses: Vec<IpAddr>,
    /// Networks behind the host's other interfaces (container bridges, VPN links): the host's
    /// own services in all but name. The default route's network (proxies, registry mirrors)
    /// stays reachable, as CONTRACT.md asks only for the host's own addresses.
    internal_networks: Vec<String>,
    /// The address sandboxes send DNS queries to (the default gateway's, which pasta
    /// answers, or `kernel::DNS`, which the host rewrites); none on a host without a gateway
    /// on pasta, where sandboxes use the host's resolvers.
    dns: Option<IpAddr>,
}

/// Metadata services clouds keep outside 169.254.0.0/16 (Azure, Alibaba, Oracle).
const METADATA: &[&str] = &["168.63.129.16", "100.100.100.200", "192.0.0.192"];

/// `addr/len` as the network it is in (`10.1.2.3/16` → `10.1.0.0/16`).
fn network_of(cidr: &str) -> Option<String> {
    let (addr, len) = cidr.split_once('/')?;
    let addr: std::net::Ipv4Addr = addr.parse().ok()?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some(format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(addr) & mask)))
}

/// The word after `key` in `words` (`via 192.0.2.1`, `dev eth0`).
fn after<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .position(|w| *w == key)
        .and_then(|i| words.get(i + 1).copied())
}

/// How long one `ip`, `nft` or `nsenter` call may take.
const TOOL_WITHIN: Duration = Duration::from_secs(30);

/// Runs a set-up tool with a fixed environment, `stdin` on its input, bounded in time; its
/// stdout on success.
fn run(cmd: &mut Command, stdin: Option<&str>) -> Result<String, NetworkError> {
    use std::io::Read;
    let command = format!("{cmd:?}").replace('"', "");
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let tool = |detail: String| NetworkError::Tool {
        command: command.clone(),
        detail,
    };
    let mut child = cmd.spawn().map_err(|e| tool(e.to_string()))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).map_err(|e| tool(e.to_string()))?;
    }
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(|e| tool(e.to_string()))? {
            Some(status) => break status,
            None if started.elapsed() > TOOL_WITHIN => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(tool(format!("it did not finish within {} s", TOOL_WITHIN.as_secs())));
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    if status.success() {
        Ok(out)
    } else {
        Err(tool(format!("{status}: {}", err.trim())))
    }
}

impl NetworkPolicy {
    /// Reads the host's addresses, its interfaces' networks, what is routed through them, and
    /// its default gateway.
    pub fn detect() -> Result<Self, NetworkError> {
        let default = run(Command::new("ip").args(["-4", "route", "show", "default"]), None)?;
        let addresses = run(Command::new("ip").args(["-o", "addr", "show"]), None)?;
        let routes = run(Command::new("ip").args(["-4", "route", "show", "table", "all"]), None)?;
        Ok(Self::from_listings(&default, &addresses, &routes))
    }

    /// The policy of a host whose `ip -4 route show default`, `ip -o addr show` and
    /// `ip -4 route show table all` printed these.
    pub fn from_listings(default: &str, addresses: &str, routes: &str) -> Self {
        let words: Vec<&str> = default.lines().next().unwrap_or("").split_whitespace().collect();
        let dns = after(&words, "via").and_then(|a| a.parse().ok());
        let default_dev = after(&words, "dev").map(str::to_owned);
        let other_interface = |dev: &str| dev != "lo" && Some(dev) != default_dev.as_deref();
        let mut host_addresses: Vec<IpAddr> = Vec::new();
        let mut internal_networks: Vec<String> = Vec::new();
        for line in addresses.lines() {
            // `4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0`
            let mut fields = line.split_whitespace();
            let dev = fields.nth(1).unwrap_or("").trim_end_matches(':');
            let Some(family) = fields.next() else { continue };
            let Some(cidr) = fields.next() else { continue };
            let Some(addr) = cidr.split('/').next().and_then(|a| a.parse::<IpAddr>().ok()) else {
                continue;
            };
            host_addresses.push(addr);
            if family == "inet"
                && other_interface(dev)
                && let Some(net) = network_of(cidr)
            {
                internal_networks.push(net);
            }
        }
        // Whatever is routed through another interface (a WireGuard or Tailscale link's
        // 100.64.0.0/10, a container bridge's peers) is the host's side of the wall too.
        for line in routes.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(first) = words.first() else { continue };
            // `local`, `broadcast`, `unreachable`…: not a route to another network.
            let destination = if first.contains('.') || first.contains('/') {
                *first
            } else {
                continue;
            };
            let Some(dev) = after(&words, "dev") else { continue };
            let cidr = if destination.contains('/') {
                destination.to_owned()
            } else {
                format!("{destination}/32")
            };
            if other_interface(dev)
                && let Some(net) = network_of(&cidr)
            {
                internal_networks.push(net);
            }
        }
        host_addresses.sort();
        host_addresses.dedup();
        internal_networks.sort();
        internal_networks.dedup();
        Self {
            uplink: Uplink::Pasta,
            host_addresses,
            internal_networks,
            dns,
        }
    }

    /// The policy with the uplink `choice` asks for; when `Auto` falls back to pasta, why.
    pub fn detect_for(choice: UplinkChoice) -> Result<(Self, Option<String>), NetworkError> {
        let mut policy = Self::detect()?;
        if choice == UplinkChoice::Pasta {
            return Ok((policy, None));
        }
        // The host's first IPv4 nameserver, as pasta's `--dns-forward` uses.
        let resolver = std::fs::read_to_string("/etc/resolv.conf")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().strip_prefix("nameserver"))
            .find_map(|a| a.trim().parse::<std::net::Ipv4Addr>().ok());
        let prepared = run(Command::new("ip").args(["-4", "route", "show", "table", "all"]), None)
            .and_then(|routed| kernel::prepare(resolver, &routed));
        match prepared {
            Ok(()) => {
                policy.uplink = Uplink::Kernel;
                policy.dns = resolver.map(|_| IpAddr::V4(kernel::DNS));
                Ok((policy, None))
            }
            Err(e) if choice == UplinkChoice::Auto => Ok((policy, Some(e.to_string()))),
            Err(e) => Err(e),
        }
    }

    /// How traffic leaves.
    pub fn uplink(&self) -> Uplink {
        self.uplink
    }

    /// The host as it is now (addresses come and go: a DHCP lease, a new bridge), keeping the
    /// uplink and the DNS address the sandboxes' `/etc/resolv.conf` already names.
    pub fn refreshed(&self) -> Result<Self, NetworkError> {
        let now = Self::detect()?;
        Ok(Self {
            uplink: self.uplink,
            dns: self.dns,
            ..now
        })
    }

    /// The `/etc/resolv.conf` sandboxes with a network see: the host's search domains and
    /// options, and the one nameserver pasta answers for; None when the host has no gateway
    /// (sandboxes then see the host's own file).
    pub fn resolv_conf(&self, host: &str) -> Option<String> {
        let dns = self.dns?;
        let mut text: String = host
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                l.starts_with("search") || l.starts_with("domain") || l.starts_with("options")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&format!("nameserver {dns}\n"));
        Some(text)
    }

    /// The host addresses the ruleset refuses.
    pub fn host_addresses(&self) -> &[IpAddr] {
        &self.host_addresses
    }

    /// The nftables ruleset of a sandbox namespace. Loopback inside the namespace is its own
    /// (accepted); DNS to the address pasta answers (or the host rewrites) is accepted; IPv6 is
    /// refused whole, as pasta relays IPv4 only (`-4`). On the kernel path the whole pool
    /// (other sandboxes, the host's ends) is refused too, only the inner ports of `forwards`
    /// are taken in from the link, and answers to those connections go out.
    pub fn ruleset(&self, forwards: &[Forward]) -> String {
        let mut refused = vec!["127.0.0.0/8".to_owned(), "169.254.0.0/16".to_owned()];
        let (chains, answers) = match self.uplink {
            Uplink::Kernel => {
                refused.push(format!("{}/{}", kernel::POOL, kernel::POOL_LEN));
                kernel::namespace_rules(&forwards.iter().map(|f| f.port).collect::<Vec<_>>())
            }
            Uplink::Pasta => (String::new(), ""),
        };
        refused.extend(METADATA.iter().map(|a| (*a).to_owned()));
        refused.extend(self.internal_networks.iter().cloned());
        refused.extend(
            self.host_addresses
                .iter()
                .filter(|a| a.is_ipv4() && !a.is_loopback())
                .map(IpAddr::to_string),
        );
        let dns = self.dns.map_or(String::new(), |dns| {
            format!("\t\tip daddr {dns} udp dport 53 accept\n\t\tip daddr {dns} tcp dport 53 accept\n")
        });
        format!(
            "table {TABLE} {{\n\
             {chains}\
             \tchain output {{\n\
             \t\ttype filter hook output priority filter; policy accept;\n\
             \t\toifname \"lo\" accept\n\
             {answers}\
             {dns}\
             \t\tip daddr {{ {} }} reject with icmpx type admin-prohibited\n\
             \t\tmeta nfproto ipv6 reject with icmpx type admin-prohibited\n\
             \t}}\n\
             }}\n",
            refused.join(", ")
        )
    }

    /// The arguments pasta gets for the namespace at `path`, forwarding `forwards` from the
    /// host's loopback in (and nothing else either way).
    pub fn pasta_args(&self, path: &Path, forwards: &[Forward]) -> Vec<String> {
        let inbound = if forwards.is_empty() {
            "none".to_owned()
        } else {
            forwards
                .iter()
                .map(|f| format!("127.0.0.1/{}:{}", f.host_port, f.port))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut args: Vec<String> = [
            "--runas",
            "0:0",
            "--netns",
            &path.display().to_string(),
            "--config-net",
            "--no-map-gw",
            "-4",
            "-t",
            &inbound,
            "-u",
            "none",
            "-T",
            "none",
            "-U",
            "none",
            "-f",
            "-q",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        if let Some(dns) = self.dns {
            args.extend(["--dns-forward".to_owned(), dns.to_string()]);
        }
        args
    }
}
