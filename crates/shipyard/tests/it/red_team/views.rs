//! Red team (#30): what one tenant sees of others. A build has a cgroup namespace of its own and
//! sees only its own groups at `/sys/fs/cgroup` (not another tenant's build running beside it),
//! and its mount table names no path of the host's data directory or work root; nor does an
//! instance's (its release's files and HOME come from its workspace's disk).

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

#[tokio::test]
async fn an_instance_mount_table_names_no_host_path_of_the_server() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let (data, work) = (server.data_dir(), server.work_root());
    // The release's files and the HOME are bound in from the workspace's disk, mounted on the
    // host under the data directory: the instance sees them by the disk's own paths only.
    let js = format!(
        "const info = require('fs').readFileSync('/proc/self/mountinfo', 'utf8').split('\\n');\n\
         const named = info.filter(l => l.includes({data:?}) || l.includes({work:?})).length;\n\
         console.log(`HOSTPATHS ${{named}} of ${{info.length}}`);\n\
         require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);\n",
        data = data.display().to_string(),
        work = work.display().to_string(),
    );
    let (_, done) = ada.node_app_ready(&server, "mounts", &js, serde_json::json!({})).await;
    let release = done["releaseId"].as_str().expect("release");
    let text = ada.runtime_log_text(release, |t| t.contains("HOSTPATHS")).await;
    let line = text.lines().find(|l| l.contains("HOSTPATHS")).unwrap_or_default();
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "HOSTPATHS").expect("HOSTPATHS");
    let count = |i: usize| words.get(at + i).and_then(|w| w.parse::<u32>().ok());
    assert!(
        count(3).is_some_and(|n| n > 5),
        "positive control: the table was read ({line})"
    );
    assert_eq!(count(1), Some(0), "the mount table names the server's paths: {line}");
    let host = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(
        host.contains(&server.workspace_disk(&ada.tenant_id).display().to_string()),
        "positive control: the host's table names the workspace's disk"
    );
}
