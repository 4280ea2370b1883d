//! Memory, process and CPU limits, through whichever cgroup hierarchy the host offers: v2 (a
//! unified tree with `cgroup.controllers` at its root) or v1 (one tree per controller). With
//! neither writable the limiter is `None`, and `Sandbox::detect` refuses to run untrusted code.

mod group;
mod v1;
mod v2;

pub use group::LimitGroup;

use std::path::{Path, PathBuf};

/// Limits of one sandboxed run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Memory in bytes (swap included: none is allowed beyond it).
    pub memory_bytes: u64,
    /// Processes and threads at once.
    pub pids: u64,
    /// CPU time per second of wall clock, in thousandths of a core (`None`: no quota).
    pub cpu_millis: Option<u64>,
}

/// The CPU quota `cpu_millis` gives per scheduler period of 100 ms, in microseconds.
pub(crate) const CPU_PERIOD_US: u64 = 100_000;

/// `cpu_millis` as microseconds of CPU per 100 ms period (at least 1 ms, the kernel's floor).
pub(crate) fn cpu_quota_us(cpu_millis: u64) -> u64 {
    (cpu_millis * CPU_PERIOD_US / 1000).max(1000)
}

/// Lets a group that stayed under its quota spend up to one period's unused quota at once
/// (`cpu.cfs_burst_us` in v1, `cpu.max.burst` in v2, at `file`): a start is a burst (modules
/// load and compile on several threads), and without it a 1000-millicore instance was
/// throttled 9–26 ms of every start (measured). The long-run average stays at `cpu_millis`.
/// Kernels before 5.14 have no such file; there nothing is written.
pub(crate) fn allow_burst(file: &Path, cpu_millis: u64) -> std::io::Result<()> {
    if file.exists() {
        std::fs::write(file, cpu_quota_us(cpu_millis).to_string())?;
    }
    Ok(())
}

/// How limits are enforced on this host.
#[derive(Debug, Clone)]
pub enum Limiter {
    /// cgroup v2: groups under `<root>/shipyard/<instance>/`.
    CgroupV2 {
        /// `<root>/shipyard/<instance>`
        base: PathBuf,
    },
    /// cgroup v1: groups under `shipyard/<instance>/` of each controller's tree.
    CgroupV1 {
        /// `<root>/memory/shipyard/<instance>`
        memory: PathBuf,
        /// `<root>/pids/shipyard/<instance>`
        pids: PathBuf,
        /// `<root>/cpu/shipyard/<instance>`, when the host has the cpu controller.
        cpu: Option<PathBuf>,
    },
    /// Nothing can be enforced; the reason says what was looked for.
    None(String),
}

impl Limiter {
    /// Picks what the host offers under `root` (normally `/sys/fs/cgroup`): v2 when its root
    /// lists the memory and pids controllers, else v1 when those controllers' trees are
    /// writable. `instance` keeps the groups of one server (one data directory) apart from
    /// other servers' on the same host, so cleaning up after a restart never touches someone
    /// else's build.
    pub fn detect(root: &Path, instance: &str) -> Self {
        match v2::detect(root, instance) {
            Ok(Some(limiter)) => return limiter,
            Ok(None) => {}
            Err(why) => return Limiter::None(why),
        }
        match v1::detect(root, instance) {
            Some(limiter) => limiter,
            None => Limiter::None(format!(
                "{} offers neither a cgroup v2 hierarchy with the memory and pids controllers nor writable cgroup v1 memory and pids controllers",
                root.display()
            )),
        }
    }

    /// Why nothing can be enforced, when that is so.
    pub fn unusable(&self) -> Option<&str> {
        match self {
            Limiter::None(why) => Some(why),
            _ => None,
        }
    }

    /// Removes empty per-run groups a previous run of the server left behind (a build that
    /// was running when it stopped); groups with processes in them are left alone.
    pub fn remove_stale_groups(&self) {
        for root in self.server_groups() {
            for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
    }

    /// Removes this server's groups as it stops: the empty per-run groups, then its own
    /// directory in each tree. Left behind, every data directory a server ever ran on kept
    /// one on the host (a test run left dozens), and v1 memory groups keep their page cache
    /// charged. Runs aborted a moment ago are still exiting, so it looks again for up to a
    /// second; a group something still runs in stays after that, and so does its parent.
    pub fn remove_own_groups(&self) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            self.remove_stale_groups();
            let left = self
                .server_groups()
                .into_iter()
                .filter(|root| std::fs::remove_dir(root).is_err() && root.exists())
                .count();
            if left == 0 || std::time::Instant::now() > until {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// This server's directory in each tree it uses.
    fn server_groups(&self) -> Vec<&PathBuf> {
        match self {
            Limiter::CgroupV2 { base } => vec![base],
            Limiter::CgroupV1 { memory, pids, cpu } => {
                [Some(memory), Some(pids), cpu.as_ref()].into_iter().flatten().collect()
            }
            Limiter::None(_) => Vec::new(),
        }
    }

    /// One phrase for the start-up line.
    pub fn describe(&self, limits: Limits) -> String {
        let what = format!(
            "memory {} MiB (no swap), {} processes{}",
            limits.memory_bytes / (1024 * 1024),
            limits.pids,
            limits.cpu_millis.map_or(String::new(), |m| format!(", {m} millicores"))
        );
        match self {
            Limiter::CgroupV2 { .. } => format!("cgroup v2 limits {what}"),
            Limiter::CgroupV1 { .. } => format!("cgroup v1 limits {what}"),
            Limiter::None(why) => format!("NO memory or process limits ({why})"),
        }
    }

    /// Makes the groups of one run. The server joins a process to them before it drops to
    /// the sandbox's user, so the groups stay root's and nothing inside can loosen them.
    pub fn prepare(&self, name: &str, limits: Limits) -> std::io::Result<Option<LimitGroup>> {
        match self {
            Limiter::CgroupV2 { base } => v2::prepare(base, name, limits).map(Some),
            Limiter::CgroupV1 { memory, pids, cpu } => {
                v1::prepare(memory, pids, cpu.as_deref(), name, limits).map(Some)
            }
            Limiter::None(_) => Ok(None),
        }
    }
}
