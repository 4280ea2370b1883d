//! A sandbox's network namespace as a file under `NETNS_DIR`: made with `unshare --net=`, its
//! loopback up, the policy's ruleset loaded and its uplink (a veth pair, or pasta relaying for
//! it) set up; removed (uplink taken down, file unmounted and deleted) when its `Network` is
//! dropped.

use super::kernel::{self, Veth};
use super::{Forward, NetworkError, NetworkPolicy, Uplink, run};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the namespaces' files live. Not `ip netns`'s `/run/netns`: that is a shared mount, so
/// a namespace removed there vanishes from every mount namespace at once, and a sandbox being
/// set up at that moment (bubblewrap remounts every submount of `/` read-only) fails. This
/// directory is a private mount of its own: a sandbox keeps the view it started with.
pub const NETNS_DIR: &str = "/run/shipyard/netns";

/// Makes `NETNS_DIR` an unbindable mount, once per process (again would be harmless).
pub(crate) fn prepare_dir() -> Result<(), NetworkError> {
    static PREPARED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if PREPARED.get().is_some() {
        return Ok(());
    }
    std::fs::create_dir_all(NETNS_DIR).map_err(|e| NetworkError::Tool {
        command: format!("mkdir {NETNS_DIR}"),
        detail: e.to_string(),
    })?;
    if run(Command::new("mountpoint").args(["-q", NETNS_DIR]), None).is_err() {
        run(Command::new("mount").args(["--bind", NETNS_DIR, NETNS_DIR]), None)?;
    }
    // Unbindable (so private too): a sandbox's `--ro-bind / /` leaves this subtree out, so
    // it never sees other sandboxes' namespaces, nor fails setting up when one of them goes
    // away while its mounts are being copied (seen in CI: "remount …/netns/…: No such file").
    run(Command::new("mount").args(["--make-unbindable", NETNS_DIR]), None)?;
    let _ = PREPARED.set(());
    Ok(())
}

/// The processes whose command line names one of `namespaces` after `--netns` (pasta relays).
fn relays_of(namespaces: &[PathBuf]) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            args.windows(2)
                .any(|w| w[0] == b"--netns" && namespaces.iter().any(|n| n.as_os_str().as_encoded_bytes() == w[1]))
        })
        .collect()
}

/// Removes the namespace file at `path` (unmounts it, then deletes it).
fn remove_namespace(path: &Path) {
    let _ = run(Command::new("umount").arg(path), None);
    if std::fs::remove_file(path).is_err() {
        // Busy (another process's new mount namespace was copied with it mounted): detached
        // now, the namespace goes with its last user, and the name is free again.
        let _ = run(Command::new("umount").arg("--lazy").arg(path), None);
        let _ = std::fs::remove_file(path);
    }
}

/// How long pasta may take to bring the namespace's interface up.
const READY_WITHIN: Duration = Duration::from_secs(10);

impl NetworkPolicy {
    /// Makes the namespace `name` with its rules and its relay, forwarding `forwards` in.
    pub fn create(&self, name: &str, forwards: &[Forward]) -> Result<Network, NetworkError> {
        prepare_dir()?;
        let path = Path::new(NETNS_DIR).join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| NetworkError::Tool {
                command: format!("create {}", path.display()),
                detail: e.to_string(),
            })?;
        // From here on the file exists: dropping `net` removes it (and the namespace) on any failure.
        let mut net = Network {
            name: name.to_owned(),
            path,
            way_out: WayOut::None,
        };
        // One process makes the namespace, binds it at `path` and loads the ruleset in it, so
        // nothing ever runs there before its rules (and a deploy waits for one tool, not three).
        let bind = format!("--net={}", net.path.display());
        run(
            Command::new("unshare").args([bind.as_str(), "nft", "-f", "-"]),
            Some(&self.ruleset(forwards)),
        )?;
        if self.uplink() == Uplink::Kernel {
            net.way_out = WayOut::Veth(kernel::attach(&net.path, forwards)?);
            return Ok(net);
        }
        let pasta = Command::new("pasta")
            .args(self.pasta_args(&net.path, forwards))
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
        net.way_out = WayOut::Relay(pasta);
        net.wait_ready()?;
        Ok(net)
    }

    /// Removes the namespaces a previous run of the server with this `prefix` left behind,
    /// and the pasta relays that still hold them (a killed server's: pasta keeps its namespace
    /// alive, and its port on the host's loopback, however long it is orphaned).
    pub fn remove_stale(prefix: &str) {
        let stale: Vec<PathBuf> = std::fs::read_dir(NETNS_DIR)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
            .map(|e| e.path())
            .collect();
        if stale.is_empty() {
            return;
        }
        for pid in relays_of(&stale) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        for path in stale {
            kernel::detach_stale(&path);
            remove_namespace(&path);
        }
    }
}

/// How a namespace's traffic leaves it.
#[derive(Debug)]
enum WayOut {
    /// Not yet set up (a namespace being made).
    None,
    /// pasta's relay process.
    Relay(Child),
    /// A veth pair routed by the kernel.
    Veth(Veth),
}

/// One sandbox's network namespace; dropping it takes its way out down and removes it.
#[derive(Debug)]
pub struct Network {
    name: String,
    path: PathBuf,
    way_out: WayOut,
}

impl Network {
    /// The pid of the namespace's relay, on pasta's path (the kernel's has none).
    pub fn relay_pid(&self) -> Option<u32> {
        match &self.way_out {
            WayOut::Relay(pasta) => Some(pasta.id()),
            WayOut::None | WayOut::Veth(_) => None,
        }
    }

    /// The namespace's file, for `nsenter --net=`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The namespace's name (its file's name under `NETNS_DIR`).
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

    /// Waits until pasta has configured the namespace: its interface has an address, and its
    /// loopback is up (pasta brings it up; if this one did not, it is brought up here).
    fn wait_ready(&mut self) -> Result<(), NetworkError> {
        let started = Instant::now();
        let enter = format!("--net={}", self.path.display());
        while started.elapsed() < READY_WITHIN {
            // pasta takes about 10 ms; each look is a tool run, so the first waits a little.
            std::thread::sleep(Duration::from_millis(5));
            if let WayOut::Relay(pasta) = &mut self.way_out
                && let Ok(Some(status)) = pasta.try_wait()
            {
                return Err(NetworkError::Tool {
                    command: "pasta".into(),
                    detail: format!("it exited ({status})"),
                });
            }
            let addrs = run(
                Command::new("nsenter").args([enter.as_str(), "ip", "-o", "-4", "addr", "show"]),
                None,
            )?;
            if addrs.contains("scope global") {
                if !addrs.contains("inet 127.0.0.1/") {
                    run(
                        Command::new("nsenter").args([enter.as_str(), "ip", "link", "set", "lo", "up"]),
                        None,
                    )?;
                }
                return Ok(());
            }
        }
        Err(NetworkError::NotReady(READY_WITHIN.as_secs()))
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.way_out, WayOut::None) {
            WayOut::Relay(mut pasta) => {
                let _ = pasta.kill();
                let _ = pasta.wait();
            }
            // Its own drop removes the pair and the forwards into it.
            WayOut::Veth(veth) => drop(veth),
            WayOut::None => {}
        }
        remove_namespace(&self.path);
    }
}
