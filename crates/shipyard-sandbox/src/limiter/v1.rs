//! cgroup v1: a tree per controller; a run's group is a directory of the same name in each.

use super::{CPU_PERIOD_US, LimitGroup, Limiter, Limits, allow_burst, cpu_quota_us};
use std::path::{Path, PathBuf};

/// The v1 limiter when the memory and pids trees under `root` are writable.
pub(super) fn detect(root: &Path, instance: &str) -> Option<Limiter> {
    let tree = |controller: &str| {
        let top = root.join(controller);
        if !top.join("cgroup.procs").exists() {
            return None;
        }
        let dir = top.join("shipyard").join(instance);
        std::fs::create_dir_all(&dir).ok()?;
        dir.join("cgroup.procs").exists().then_some(dir)
    };
    let memory = tree("memory")?;
    let pids = tree("pids")?;
    Some(Limiter::CgroupV1 {
        memory,
        pids,
        cpu: tree("cpu"),
    })
}

/// Makes the groups of one run in each tree.
pub(super) fn prepare(
    memory: &Path,
    pids: &Path,
    cpu: Option<&Path>,
    name: &str,
    limits: Limits,
) -> std::io::Result<LimitGroup> {
    let mem = memory.join(name);
    let pid = pids.join(name);
    std::fs::create_dir_all(&mem)?;
    std::fs::create_dir_all(&pid)?;
    std::fs::write(mem.join("memory.limit_in_bytes"), limits.memory_bytes.to_string())?;
    // Swap would let a build exceed its memory limit silently; memory+swap is capped too where
    // the kernel accounts swap (it must be written after the memory limit).
    let _ = std::fs::write(mem.join("memory.memsw.limit_in_bytes"), limits.memory_bytes.to_string());
    std::fs::write(pid.join("pids.max"), limits.pids.to_string())?;
    let mut dirs: Vec<(PathBuf, &'static str)> = vec![(mem, "memory"), (pid, "pids")];
    if let (Some(cpu), Some(millis)) = (cpu, limits.cpu_millis) {
        let dir = cpu.join(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("cpu.cfs_period_us"), CPU_PERIOD_US.to_string())?;
        std::fs::write(dir.join("cpu.cfs_quota_us"), cpu_quota_us(millis).to_string())?;
        allow_burst(&dir.join("cpu.cfs_burst_us"), millis)?;
        dirs.push((dir, "cpu"));
    }
    Ok(LimitGroup::new(dirs, false))
}
