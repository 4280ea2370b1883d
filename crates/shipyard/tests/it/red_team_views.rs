//! Red team (#30): what one tenant sees of others. A build has a cgroup namespace of its own and
//! sees only its own groups at `/sys/fs/cgroup` (not another tenant's build running beside it),
//! and its mount table names no path of the host's data directory or work root.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use std::time::{Duration, Instant};

/// Build groups (`dep_…`) under the host's cgroup hierarchies, at most four levels down.
fn host_build_groups() -> usize {
    fn walk(dir: &std::path::Path, depth: u32) -> usize {
        if depth > 4 {
            return 0;
        }
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| usize::from(e.file_name().to_string_lossy().starts_with("dep_")) + walk(&e.path(), depth + 1))
            .sum()
    }
    walk(std::path::Path::new("/sys/fs/cgroup"), 0)
}

#[tokio::test]
async fn a_build_sees_its_own_cgroups_only_and_no_host_path_of_the_server() {
    let server = TestServer::start(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobs").await;
    // Bob's build runs while Ada's looks around.
    let busy = bob
        .deployable(
            &server,
            "busy",
            "static",
            &[("index.html", "x")],
            static_build("sleep 30"),
        )
        .await;
    let running = bob.deploy(&busy).await["id"].as_str().expect("id").to_owned();
    bob.wait_for(&running, 30, |s| s == "building").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while host_build_groups() == 0 {
        assert!(
            Instant::now() < deadline,
            "positive control: bob's build has groups on the host"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (data, work) = (server.data_dir(), server.work_root());
    let probe = format!(
        "echo \"CGROUP $(tr '\\n' ' ' < /proc/self/cgroup)\"; \
         echo \"LIMIT $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null)\"; \
         echo \"OTHERS $(find /sys/fs/cgroup -name 'dep_*' 2>/dev/null | wc -l)\"; \
         echo \"HOSTPATHS $(grep -c -e '{}' -e '{}' /proc/self/mountinfo)\"; \
         mkdir -p dist && echo ok > dist/index.html",
        data.display(),
        work.display()
    );
    let (done, text) = ada.static_build_log(&server, "looker", &probe).await;
    assert_eq!(done["status"], "ready", "{done}\n{text}");
    let said = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {key} line in:\n{text}"))
            .to_owned()
    };
    // Positive control: its own group is there, with the build's memory limit (2 GiB).
    assert_eq!(said("LIMIT"), "2147483648", "{text}");
    assert_eq!(said("OTHERS"), "0", "another tenant's build group is visible:\n{text}");
    let cgroup = said("CGROUP");
    assert!(
        cgroup.contains("memory:/ ") && !cgroup.contains("shipyard"),
        "its cgroup paths are its own namespace's root: {cgroup}"
    );
    assert_eq!(
        said("HOSTPATHS"),
        "0",
        "the mount table names the server's paths:\n{text}"
    );
    // The host's own mount table does name them (the build disk is mounted there).
    let host = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        host.contains(&work.display().to_string()),
        "positive control for the mount check"
    );
}
