//! A limit group dropped with a process still in it (its run was abandoned: a stopping server
//! aborts the task that held it) kills that process, on this host's real cgroups.

use shipyard_sandbox::{Limiter, Limits};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
fn a_dropped_group_takes_what_still_runs_in_it() {
    let limiter = Limiter::detect(
        Path::new("/sys/fs/cgroup"),
        &format!("test-drop-{}", std::process::id()),
    );
    assert!(limiter.unusable().is_none(), "the platform needs cgroups: {limiter:?}");
    let limits = Limits {
        memory_bytes: 256 << 20,
        pids: 16,
        cpu_millis: None,
    };
    let group = limiter.prepare("abandoned", limits).expect("prepare").expect("a group");
    // It joins the group, then outlives anything that would end it but the group's owner.
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("for f in \"$@\"; do echo $$ > \"$f\"; done; exec sleep 60")
        .arg("sh")
        .args(group.procs_files())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !group.members().contains(&pid) {
        assert!(Instant::now() < deadline, "control: the process joined the group");
        std::thread::sleep(Duration::from_millis(5));
    }

    drop(group);
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            limiter.remove_own_groups();
            panic!("the process outlived its dropped group");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.signal(), Some(9), "killed by the group's drop: {status:?}");
    limiter.remove_own_groups();
}
