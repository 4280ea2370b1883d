//! cgroup v2: one unified tree. Controllers must be enabled in `cgroup.subtree_control` of
//! every ancestor of a run's group; the groups of one server live under
//! `<root>/shipyard/<instance>/`.

use super::{CPU_PERIOD_US, LimitGroup, Limiter, Limits, allow_burst, cpu_quota_us};
use std::path::Path;

/// Controllers a run's group needs; cpu is used when offered.
const NEEDED: [&str; 2] = ["memory", "pids"];

/// The v2 limiter when `root` is a v2 hierarchy offering memory and pids; `Err` when it is
/// one but cannot be used (saying why), `Ok(None)` when it is not one.
pub(super) fn detect(root: &Path, instance: &str) -> Result<Option<Limiter>, String> {
    let Ok(offered) = std::fs::read_to_string(root.join("cgroup.controllers")) else {
        return Ok(None);
    };
    let offered: Vec<&str> = offered.split_whitespace().collect();
    if let Some(missing) = NEEDED.iter().find(|c| !offered.contains(c)) {
        return Err(format!(
            "the cgroup v2 hierarchy at {} does not offer the {missing} controller",
            root.display()
        ));
    }
    let enable: String = NEEDED
        .iter()
        .copied()
        .chain(offered.contains(&"cpu").then_some("cpu"))
        .map(|c| format!("+{c} "))
        .collect();
    let shipyard = root.join("shipyard");
    let base = shipyard.join(instance);
    let made = std::fs::create_dir_all(&base)
        .and_then(|()| std::fs::write(root.join("cgroup.subtree_control"), enable.trim_end()))
        .and_then(|()| std::fs::write(shipyard.join("cgroup.subtree_control"), enable.trim_end()))
        .and_then(|()| std::fs::write(base.join("cgroup.subtree_control"), enable.trim_end()));
    match made {
        Ok(()) => Ok(Some(Limiter::CgroupV2 { base })),
        Err(e) => Err(format!(
            "the cgroup v2 hierarchy at {} is not writable ({e})",
            root.display()
        )),
    }
}

/// Makes the group of one run.
pub(super) fn prepare(base: &Path, name: &str, limits: Limits) -> std::io::Result<LimitGroup> {
    let dir = base.join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("memory.max"), limits.memory_bytes.to_string())?;
    // Without this a run could page out past its memory limit.
    std::fs::write(dir.join("memory.swap.max"), "0")?;
    std::fs::write(dir.join("pids.max"), limits.pids.to_string())?;
    if let Some(millis) = limits.cpu_millis {
        std::fs::write(dir.join("cpu.max"), format!("{} {CPU_PERIOD_US}", cpu_quota_us(millis)))?;
        allow_burst(&dir.join("cpu.max.burst"), millis)?;
    }
    Ok(LimitGroup::new(vec![(dir, "")], true))
}
