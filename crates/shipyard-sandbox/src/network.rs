//! A network namespace of its own for every sandbox, as CONTRACT.md's "Who may connect to
//! whom" says: the registries and the internet yes; the host's loopback, its own addresses,
//! 169.254.0.0/16 and other sandboxes no.
//!
//! The server (root) makes the namespace with `ip netns add`, loads an nftables ruleset into
//! it, and starts `pasta` (Debian's `passt`) to relay its traffic through host sockets:
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
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use thiserror::Error;

/// The nftables table every sandbox namespace holds.
pub const TABLE: &str = "inet shipyard";

/// Where `ip netns` keeps its namespaces.
const NETNS_DIR: &str = "/run/netns";

/// How long pasta may take to bring the namespace's interface up.
const READY_WITHIN: Duration = Duration::from_secs(10);

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
}

/// What every sandbox network refuses, fixed at start.
#[derive(Debug, Clone)]
pub struct NetworkPolicy {
    /// The host's own addresses (every interface's).
    host_addresses: Vec<IpAddr>,
    /// The address sandboxes send DNS queries to (the default gateway's, which pasta answers).
    dns: IpAddr,
}

fn run(cmd: &mut Command, stdin: Option<&str>) -> Result<String, NetworkError> {
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
    let out = child.wait_with_output().map_err(|e| tool(e.to_string()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(tool(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl NetworkPolicy {
    /// Reads the host's addresses (`ip -o addr`) and its default gateway.
    pub fn detect() -> Result<Self, NetworkError> {
        let listing = run(Command::new("ip").args(["-o", "addr", "show"]), None)?;
        let mut host_addresses: Vec<IpAddr> = listing
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                words.find(|w| *w == "inet" || *w == "inet6")?;
                words.next()?.split('/').next()?.parse().ok()
            })
            .collect();
        host_addresses.sort();
        host_addresses.dedup();
        let routes = run(Command::new("ip").args(["-4", "route", "show", "default"]), None)?;
        let dns = routes
            .split_whitespace()
            .skip_while(|w| *w != "via")
            .nth(1)
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| NetworkError::Tool {
                command: "ip -4 route show default".into(),
                detail: "this host has no IPv4 default route, so sandboxes could reach nothing".into(),
            })?;
        Ok(Self { host_addresses, dns })
    }

    /// The `/etc/resolv.conf` sandboxes with a network see: the host's search domains and
    /// options, and the one nameserver pasta answers for.
    pub fn resolv_conf(&self, host: &str) -> String {
        let mut text: String = host
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                l.starts_with("search") || l.starts_with("domain") || l.starts_with("options")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&format!("nameserver {}\n", self.dns));
        text
    }

    /// The host addresses the ruleset refuses.
    pub fn host_addresses(&self) -> &[IpAddr] {
        &self.host_addresses
    }

    /// The nftables ruleset of a sandbox namespace. Loopback inside the namespace is its own
    /// (accepted); IPv6 is refused whole, as pasta relays IPv4 only (`-4`).
    pub fn ruleset(&self) -> String {
        let mut refused = vec!["127.0.0.0/8".to_owned(), "169.254.0.0/16".to_owned()];
        refused.extend(
            self.host_addresses
                .iter()
                .filter(|a| a.is_ipv4() && !a.is_loopback())
                .map(IpAddr::to_string),
        );
        format!(
            "table {TABLE} {{\n\
             \tchain output {{\n\
             \t\ttype filter hook output priority filter; policy accept;\n\
             \t\toifname \"lo\" accept\n\
             \t\tip daddr {{ {} }} reject with icmpx type admin-prohibited\n\
             \t\tmeta nfproto ipv6 reject with icmpx type admin-prohibited\n\
             \t}}\n\
             }}\n",
            refused.join(", ")
        )
    }

    /// The arguments pasta gets for the namespace at `path`.
    pub fn pasta_args(&self, path: &Path) -> Vec<String> {
        [
            "--runas",
            "0:0",
            "--netns",
            &path.display().to_string(),
            "--config-net",
            "--no-map-gw",
            "-4",
            "-t",
            "none",
            "-u",
            "none",
            "-T",
            "none",
            "-U",
            "none",
            "--dns-forward",
            &self.dns.to_string(),
            "-f",
            "-q",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    /// Makes the namespace `name` with its rules and its relay.
    pub fn create(&self, name: &str) -> Result<Network, NetworkError> {
        run(Command::new("ip").args(["netns", "add", name]), None)?;
        // From here on the namespace exists: dropping `net` removes it on any failure.
        let mut net = Network {
            name: name.to_owned(),
            path: Path::new(NETNS_DIR).join(name),
            pasta: None,
        };
        let enter = format!("--net={}", net.path.display());
        run(
            Command::new("nsenter").args([&enter, "ip", "link", "set", "lo", "up"]),
            None,
        )?;
        run(
            Command::new("nsenter").args([&enter, "nft", "-f", "-"]),
            Some(&self.ruleset()),
        )?;
        let pasta = Command::new("pasta")
            .args(self.pasta_args(&net.path))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| NetworkError::Tool {
                command: "pasta".into(),
                detail: e.to_string(),
            })?;
        net.pasta = Some(pasta);
        net.wait_ready()?;
        Ok(net)
    }

    /// Removes the namespaces a previous run of the server with this `prefix` left behind
    /// (their pasta quits when its namespace goes).
    pub fn remove_stale(prefix: &str) {
        for entry in std::fs::read_dir(NETNS_DIR).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(prefix) {
                let _ = run(Command::new("ip").args(["netns", "delete", &name]), None);
            }
        }
    }
}

/// One sandbox's network namespace; dropping it stops its relay and removes it.
#[derive(Debug)]
pub struct Network {
    name: String,
    path: PathBuf,
    pasta: Option<Child>,
}

impl Network {
    /// The namespace's file, for `nsenter --net=`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The namespace's name in `ip netns`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ruleset the namespace holds now, read back from the kernel.
    pub fn rules(&self) -> Result<String, NetworkError> {
        let enter = format!("--net={}", self.path.display());
        run(
            Command::new("nsenter").args([enter.as_str(), "nft", "list", "table", "inet", "shipyard"]),
            None,
        )
    }

    fn wait_ready(&mut self) -> Result<(), NetworkError> {
        let started = Instant::now();
        let enter = format!("--net={}", self.path.display());
        while started.elapsed() < READY_WITHIN {
            if let Some(pasta) = self.pasta.as_mut()
                && let Ok(Some(status)) = pasta.try_wait()
            {
                return Err(NetworkError::Tool {
                    command: "pasta".into(),
                    detail: format!("it exited ({status})"),
                });
            }
            let addrs = run(
                Command::new("nsenter").args([enter.as_str(), "ip", "-o", "-4", "addr", "show", "scope", "global"]),
                None,
            )?;
            if addrs.contains("inet ") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(NetworkError::NotReady(READY_WITHIN.as_secs()))
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        if let Some(mut pasta) = self.pasta.take() {
            let _ = pasta.kill();
            let _ = pasta.wait();
        }
        let _ = run(Command::new("ip").args(["netns", "delete", &self.name]), None);
    }
}
