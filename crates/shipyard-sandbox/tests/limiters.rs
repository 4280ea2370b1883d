//! The limiters against cgroup hierarchies laid out in temporary directories. This machine has
//! cgroup v1 only, so the v2 limiter is checked against a directory shaped like a v2 root
//! (a fake: `cgroup.controllers` and `cgroup.subtree_control` as plain files, which the kernel
//! would provide), and the refusal against an empty directory.

use shipyard_sandbox::{Limiter, Limits, Sandbox, SandboxConfig, SandboxError};
use std::path::Path;

const LIMITS: Limits = Limits {
    memory_bytes: 256 * 1024 * 1024,
    pids: 64,
    cpu_millis: Some(500),
};

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim()
        .to_owned()
}

#[test]
fn the_v2_limiter_writes_memory_swap_pids_and_cpu_under_its_own_subtree() {
    // A fake v2 root (see the file's comment): the kernel would make these files itself.
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::write(root.path().join("cgroup.controllers"), "cpuset cpu io memory pids\n").expect("controllers");
    std::fs::write(root.path().join("cgroup.subtree_control"), "").expect("subtree_control");
    let limiter = Limiter::detect(root.path(), "0123456789abcdef");
    let Limiter::CgroupV2 { base } = &limiter else {
        panic!("a v2 root is used as v2: {limiter:?}");
    };
    assert_eq!(base, &root.path().join("shipyard/0123456789abcdef"));
    for dir in [root.path().to_owned(), root.path().join("shipyard"), base.clone()] {
        assert_eq!(
            read(&dir.join("cgroup.subtree_control")),
            "+memory +pids +cpu",
            "controllers are enabled down to the server's subtree"
        );
    }
    // The kernel makes `cpu.max.burst` in every group (5.14 and later).
    std::fs::create_dir_all(base.join("dep_1")).expect("mkdir");
    std::fs::write(base.join("dep_1/cpu.max.burst"), "0").expect("burst");
    let group = limiter.prepare("dep_1", LIMITS).expect("prepare").expect("a group");
    let dir = base.join("dep_1");
    assert_eq!(group.dirs(), std::slice::from_ref(&dir));
    assert_eq!(read(&dir.join("memory.max")), (256u64 * 1024 * 1024).to_string());
    assert_eq!(
        read(&dir.join("memory.swap.max")),
        "0",
        "no swap beyond the memory limit"
    );
    assert_eq!(read(&dir.join("pids.max")), "64");
    assert_eq!(
        read(&dir.join("cpu.max")),
        "50000 100000",
        "500 millicores: half of each 100 ms"
    );
    assert_eq!(
        read(&dir.join("cpu.max.burst")),
        "50000",
        "a start may spend one period's unused quota at once"
    );
    assert_eq!(group.procs_files(), vec![dir.join("cgroup.procs")]);
    assert!(limiter.describe(LIMITS).starts_with("cgroup v2 limits memory 256 MiB"));

    // The counters the kernel would keep decide how a run is reported.
    assert!(!group.hit_memory_limit() && !group.hit_process_limit());
    std::fs::write(dir.join("memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").expect("events");
    std::fs::write(dir.join("pids.events"), "max 12\n").expect("events");
    assert!(group.hit_memory_limit() && group.hit_process_limit());
}

#[test]
fn a_v2_root_without_the_pids_controller_is_refused_naming_it() {
    let root = tempfile::tempdir().expect("tempdir");
    std::fs::write(root.path().join("cgroup.controllers"), "cpu memory\n").expect("controllers");
    let limiter = Limiter::detect(root.path(), "0123456789abcdef");
    let why = limiter.unusable().expect("unusable");
    assert!(why.contains("pids controller"), "{why}");
}

#[test]
fn the_v1_limiter_writes_memory_memsw_pids_and_cpu_quota() {
    // A fake v1 layout: one directory per controller with the files the kernel would make.
    let root = tempfile::tempdir().expect("tempdir");
    for controller in ["memory", "pids", "cpu"] {
        let top = root.path().join(controller);
        std::fs::create_dir_all(top.join("shipyard/inst")).expect("mkdir");
        std::fs::write(top.join("cgroup.procs"), "").expect("procs");
        std::fs::write(top.join("shipyard/inst/cgroup.procs"), "").expect("procs");
    }
    let limiter = Limiter::detect(root.path(), "inst");
    assert!(matches!(limiter, Limiter::CgroupV1 { cpu: Some(_), .. }), "{limiter:?}");
    let group = limiter.prepare("dep_2", LIMITS).expect("prepare").expect("a group");
    let at = |c: &str, f: &str| read(&root.path().join(c).join("shipyard/inst/dep_2").join(f));
    assert!(
        !root.path().join("cpu/shipyard/inst/dep_2/cpu.cfs_burst_us").exists(),
        "a kernel without CPU burst (no such file) gets none written"
    );
    // The same kernel with burst (5.14 and later) makes the file in every group.
    let burst = root.path().join("cpu/shipyard/inst/dep_3/cpu.cfs_burst_us");
    std::fs::create_dir_all(burst.parent().expect("parent")).expect("mkdir");
    std::fs::write(&burst, "0").expect("burst");
    limiter.prepare("dep_3", LIMITS).expect("prepare").expect("a group");
    assert_eq!(
        read(&burst),
        "50000",
        "a start may spend one period's unused quota at once"
    );
    assert_eq!(
        at("memory", "memory.limit_in_bytes"),
        (256u64 * 1024 * 1024).to_string()
    );
    assert_eq!(
        at("memory", "memory.memsw.limit_in_bytes"),
        (256u64 * 1024 * 1024).to_string()
    );
    assert_eq!(at("pids", "pids.max"), "64");
    assert_eq!(at("cpu", "cpu.cfs_quota_us"), "50000");
    assert_eq!(at("cpu", "cpu.cfs_period_us"), "100000");
    assert_eq!(group.procs_files().len(), 3);
}

#[test]
fn with_no_usable_cgroups_untrusted_code_is_refused_unless_insecure() {
    let empty = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let config = |insecure| SandboxConfig {
        hidden: vec![state.path().to_owned()],
        insecure,
        limits: LIMITS,
        cgroup_root: empty.path().to_owned(),
        state_dir: state.path().to_owned(),
        network: shipyard_sandbox::UplinkChoice::Pasta,
    };
    match Sandbox::detect(config(false)) {
        Err(SandboxError::NoLimits(why)) => {
            assert!(why.contains("neither a cgroup v2 hierarchy"), "{why}");
        }
        other => panic!("no limiter must refuse: {other:?}"),
    }
    let insecure = Sandbox::detect(config(true)).expect("insecure runs anyway");
    assert!(!insecure.is_confined());
    assert!(
        insecure.describe().contains("NO memory or process limits"),
        "{}",
        insecure.describe()
    );
}
