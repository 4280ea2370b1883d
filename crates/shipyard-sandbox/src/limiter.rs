//! Memory and process limits. cgroup v1 is what these hosts offer; a host without usable
//! cgroups gets `Limiter::None`, which `serve` reports at start instead of skipping silently.

use std::path::{Path, PathBuf};

/// Limits of one sandboxed run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Memory in bytes.
    pub memory_bytes: u64,
    /// Processes and threads at once.
    pub pids: u64,
}

/// How limits are enforced on this host.
#[derive(Debug, Clone)]
pub enum Limiter {
    /// cgroup v1 `memory` and `pids` controllers, under `shipyard/<instance>` of each.
    CgroupV1 {
        /// `/sys/fs/cgroup/memory/shipyard/<instance>`
        memory: PathBuf,
        /// `/sys/fs/cgroup/pids/shipyard/<instance>`
        pids: PathBuf,
    },
    /// Nothing is enforced.
    None,
}

/// A cgroup pair one run joins.
#[derive(Debug)]
pub struct LimitGroup {
    dirs: Vec<PathBuf>,
}

impl Limiter {
    /// Picks what the host offers: cgroup v1 when its controllers are writable. `instance`
    /// keeps the groups of one server (one data directory) apart from other servers' on the
    /// same host, so cleaning up after a restart never touches someone else's build.
    pub fn detect(root: &Path, instance: &str) -> Self {
        let memory = root.join("memory/shipyard").join(instance);
        let pids = root.join("pids/shipyard").join(instance);
        if std::fs::create_dir_all(&memory).is_ok()
            && std::fs::create_dir_all(&pids).is_ok()
            && memory.join("cgroup.procs").exists()
            && pids.join("cgroup.procs").exists()
        {
            Limiter::CgroupV1 { memory, pids }
        } else {
            Limiter::None
        }
    }

    /// Removes empty per-build groups a previous run of the server left behind (a build that
    /// was running when it stopped); groups with processes in them are left alone.
    pub fn remove_stale_groups(&self) {
        let Limiter::CgroupV1 { memory, pids } = self else {
            return;
        };
        for root in [memory, pids] {
            for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
                if entry.path().is_dir() {
                    let _ = std::fs::remove_dir(entry.path());
                }
            }
        }
    }

    /// One phrase for the start-up line.
    pub fn describe(&self, limits: Limits) -> String {
        match self {
            Limiter::CgroupV1 { .. } => format!(
                "cgroup v1 limits memory {} MiB and {} processes",
                limits.memory_bytes / (1024 * 1024),
                limits.pids
            ),
            Limiter::None => "NO memory or process limits (no writable cgroup v1 controllers)".to_owned(),
        }
    }

    /// Makes the groups of one run, writable (to join) by `uid`.
    pub fn prepare(&self, name: &str, limits: Limits, uid: Option<u32>) -> std::io::Result<Option<LimitGroup>> {
        let Limiter::CgroupV1 { memory, pids } = self else {
            return Ok(None);
        };
        let mem = memory.join(name);
        let pid = pids.join(name);
        std::fs::create_dir_all(&mem)?;
        std::fs::create_dir_all(&pid)?;
        std::fs::write(mem.join("memory.limit_in_bytes"), limits.memory_bytes.to_string())?;
        // Swap would let a build exceed its memory limit silently; cap memory+swap too where offered.
        let _ = std::fs::write(mem.join("memory.memsw.limit_in_bytes"), limits.memory_bytes.to_string());
        std::fs::write(pid.join("pids.max"), limits.pids.to_string())?;
        if let Some(uid) = uid {
            for dir in [&mem, &pid] {
                std::os::unix::fs::chown(dir.join("cgroup.procs"), Some(uid), None)?;
            }
        }
        Ok(Some(LimitGroup { dirs: vec![mem, pid] }))
    }
}

impl LimitGroup {
    /// The `cgroup.procs` files a process writes its pid to, to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Whether the kernel killed something in the group for exceeding the memory limit
    /// (counted in `oom_kill`; the fail counters cover kernels without it, memory and swap).
    pub fn hit_memory_limit(&self) -> bool {
        let number = |path: PathBuf| {
            std::fs::read_to_string(path)
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
        };
        self.dirs.iter().any(|d| {
            let oom_kills = std::fs::read_to_string(d.join("memory.oom_control"))
                .ok()
                .and_then(|t| {
                    t.lines()
                        .find_map(|l| l.strip_prefix("oom_kill ").and_then(|n| n.trim().parse::<u64>().ok()))
                });
            oom_kills.unwrap_or(0) > 0
                || number(d.join("memory.failcnt")).unwrap_or(0) > 0
                || number(d.join("memory.memsw.failcnt")).unwrap_or(0) > 0
        })
    }

    /// Pids still in the group.
    pub fn members(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .dirs
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect::<Vec<_>>())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Removes the groups (they must be empty).
    pub fn remove(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}
