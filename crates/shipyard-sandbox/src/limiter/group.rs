//! The limit groups one run joins, and what they say about how it ended.

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The cgroups one run joins (one per v1 controller, or one v2 group).
#[derive(Debug)]
pub struct LimitGroup {
    dirs: Vec<PathBuf>,
    /// Each group's hierarchy as a sandbox names it below `/sys/fs/cgroup` (`memory`, …; empty
    /// for v2's single one).
    hierarchies: Vec<&'static str>,
    unified: bool,
}

/// A number a cgroup file holds, or one of its `key value` lines.
fn counter(path: PathBuf, key: Option<&str>) -> u64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    match key {
        None => text.trim().parse().unwrap_or(0),
        Some(key) => text
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0),
    }
}

impl LimitGroup {
    /// Groups at `dirs`, each with the name of its hierarchy below `/sys/fs/cgroup`.
    pub(super) fn new(dirs: Vec<(PathBuf, &'static str)>, unified: bool) -> Self {
        let (dirs, hierarchies) = dirs.into_iter().unzip();
        Self {
            dirs,
            hierarchies,
            unified,
        }
    }

    /// What a sandbox with a cgroup namespace of its own sees at `/sys/fs/cgroup`: each of its
    /// groups (read-only) as the root of its hierarchy, and no other group at all, so it reads
    /// its own limits (node sizes its heap from them) but not other tenants' groups.
    pub fn inside_views(&self) -> Vec<(PathBuf, PathBuf)> {
        self.dirs
            .iter()
            .zip(&self.hierarchies)
            .map(|(dir, name)| (dir.clone(), std::path::Path::new("/sys/fs/cgroup").join(name)))
            .collect()
    }

    /// The directories of the groups.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The `cgroup.procs` files a process writes its pid to, to join.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// Moves process `pid` (a helper the platform runs for the sandbox) into the group: its
    /// memory and processes count against the sandbox's limits from now on.
    pub fn adopt(&self, pid: u32) -> std::io::Result<()> {
        for procs in self.procs_files() {
            std::fs::write(procs, pid.to_string())?;
        }
        Ok(())
    }

    /// How many processes of the group the kernel killed for exceeding its memory limit
    /// (v2 `memory.events`, v1 `memory.oom_control`).
    pub fn memory_kills(&self) -> u64 {
        let file = if self.unified {
            "memory.events"
        } else {
            "memory.oom_control"
        };
        self.dirs.iter().map(|d| counter(d.join(file), Some("oom_kill"))).sum()
    }

    /// Whether the kernel killed something in the group for exceeding the memory limit
    /// (v2 `memory.events`; v1 `oom_kill` in `memory.oom_control`, or the fail counters on
    /// kernels without it).
    pub fn hit_memory_limit(&self) -> bool {
        self.memory_kills() > 0
            || (!self.unified
                && self.dirs.iter().any(|d| {
                    counter(d.join("memory.failcnt"), None) > 0 || counter(d.join("memory.memsw.failcnt"), None) > 0
                }))
    }

    /// How many forks in the group were refused because it had as many processes as allowed.
    pub fn refused_forks(&self) -> u64 {
        self.dirs
            .iter()
            .map(|d| counter(d.join("pids.events"), Some("max")))
            .sum()
    }

    /// Whether a fork in the group was ever refused for the process limit.
    pub fn hit_process_limit(&self) -> bool {
        self.refused_forks() > 0
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

    /// Kills everything in the group at once where the kernel offers it (v2 `cgroup.kill`);
    /// callers still kill the members they see, which is all v1 offers.
    pub fn kill_at_once(&self) {
        if self.unified {
            for dir in &self.dirs {
                let _ = std::fs::write(dir.join("cgroup.kill"), "1");
            }
        }
    }

    /// Kills everything left in the group (a daemonised child that escaped its process tree,
    /// a fork bomb's stragglers), retrying for about a second while members remain.
    pub async fn kill_everyone(&self) {
        self.kill_at_once();
        let until = Instant::now() + Duration::from_secs(1);
        // Processes that were already exiting leave within a millisecond or two; every build
        // step waits here, so the first looks come soon and only stragglers wait longer.
        let mut pause = Duration::from_millis(1);
        while Instant::now() < until {
            if !self.kill_members() {
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Sends SIGKILL to every member it sees; false when there was none.
    fn kill_members(&self) -> bool {
        let members = self.members();
        for pid in &members {
            if let Some(pid) = i32::try_from(*pid).ok().and_then(rustix::process::Pid::from_raw) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        !members.is_empty()
    }

    /// Removes the groups (they must be empty).
    pub fn remove(&self) {
        for dir in &self.dirs {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A group dropped with members still in it belongs to a run that was abandoned (a stopping
/// server aborts the tasks holding its builds and snapshot copies): they go with it. Killing
/// bubblewrap alone is not enough, as the sandbox it was setting up waits for it forever (seen:
/// a snapshot copy's sandbox left asleep in its group after a test server stopped).
impl Drop for LimitGroup {
    fn drop(&mut self) {
        self.kill_at_once();
        self.kill_members();
        self.remove();
    }
}
