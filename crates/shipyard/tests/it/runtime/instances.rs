//! Instances (#13): two share the requests; the runtime-log stream shows a line a request
//! caused, its secret masked; one killed with SIGKILL is restarted and counted; after SIGTERM
//! of the server nothing of any instance is left on the host, nor the server's own cgroups;
//! while they run, their cgroups hold the limits.

use crate::support::TestServer;
use crate::support::apps::{deploy_ready, project, runtime_until};
use crate::support::deploy::SseReader;
use crate::support::edge::fetch;
use crate::support::fixtures::express_files;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

/// Every process on the host whose cgroup or command line names `release`, by pid.
fn processes_of(release: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let read =
            |file: &str| std::fs::read(entry.path().join(file)).map(|b| String::from_utf8_lossy(&b).into_owned());
        let cgroup = read("cgroup").unwrap_or_default();
        let cmdline = read("cmdline").unwrap_or_default();
        if cgroup.contains(release) || cmdline.contains(release) {
            found.push(format!("{name}: {}", cmdline.replace('\0', " ")));
        }
    }
    found
}

/// Cgroup directories (at most 4 deep under /sys/fs/cgroup) whose name holds `release`, with
/// the processes still in them.
fn cgroups_of(release: &str) -> Vec<(String, String)> {
    fn walk(dir: &Path, depth: u32, release: &str, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if entry.file_name().to_string_lossy().contains(release) {
                let procs = std::fs::read_to_string(path.join("cgroup.procs")).unwrap_or_default();
                out.push((path.display().to_string(), procs));
            } else if depth < 4 {
                walk(&path, depth + 1, release, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), 0, release, &mut out);
    out
}

#[tokio::test]
async fn two_instances_share_requests_a_killed_one_restarts_and_sigterm_leaves_nothing_behind() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let secret = "sk_live_stream_4b3a2c1d";
    ada.workspace_secret("API_KEY", secret).await;
    let app = project(
        &server,
        &ada,
        "pair",
        "node",
        &express_files("pair"),
        json!({ "startCommand": "node server.js", "instances": 2, "limits": { "memoryMb": 256 } }),
    )
    .await;
    let done = deploy_ready(&ada, &app).await;
    let release = done["releaseId"].as_str().expect("release").to_owned();
    let host = ada.live_host_of(&app).await;

    // Two instances, both healthy, and round robin spreads the requests over both.
    let view = runtime_until(&ada, &app, "two healthy instances", |v| {
        v["instances"]
            .as_array()
            .is_some_and(|i| i.len() == 2 && i.iter().all(|i| i["status"] == "healthy"))
    })
    .await;
    let numbers: Vec<u64> = view["instances"]
        .as_array()
        .map(|i| i.iter().filter_map(|i| i["number"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(numbers, [1, 2], "each instance carries its number: {view}");
    let mut who: HashMap<String, usize> = HashMap::new();
    for _ in 0..20 {
        let got = fetch(&server, &host, "/whoami", &[]).await;
        assert_eq!(got.status, 200);
        *who.entry(got.text()).or_default() += 1;
    }
    assert_eq!(who.len(), 2, "both instances answered: {who:?}");
    assert!(who.values().all(|n| *n >= 5), "spread over both: {who:?}");

    // The runtime-log stream shows a line this request causes, the secret masked in it.
    let mut stream = SseReader::open(
        &ada.token,
        &format!("/tenants/{}/releases/{release}/runtime-logs/stream", ada.tenant_id),
        None,
    )
    .await;
    let nonce = "n8c1f0e2";
    assert_eq!(
        fetch(&server, &host, &format!("/log?n={nonce}"), &[]).await.text(),
        "logged"
    );
    let line = loop {
        let frame = stream
            .next()
            .await
            .expect("the stream stays open while the release is live");
        if let Some(text) = frame.data["line"].as_str().filter(|t| t.contains(nonce)) {
            assert!(frame.id.is_some(), "log frames carry an id");
            break text.to_owned();
        }
    };
    assert!(
        line.contains("key=") && !line.contains(secret),
        "the secret is masked: {line}"
    );
    assert!(
        line.len() > format!("hit {nonce} key=").len(),
        "control: the app printed something for the key: {line}"
    );

    // SIGKILL of one instance's process: it is restarted, and counted.
    assert!(view["instances"][0]["pid"].is_null(), "no host pid is shown: {view}");
    let pid = crate::support::host::instance_host_pid(server.pid(), &release, 1);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let after = runtime_until(&ada, &app, "the killed instance restarted", |v| {
        let i = &v["instances"][0];
        i["restarts"] == 1 && i["status"] == "healthy"
    })
    .await;
    let reason = after["instances"][0]["lastExitReason"].as_str().unwrap_or_default();
    assert!(reason.contains("signal 9"), "the exit is explained: {after}");
    assert_eq!(
        after["instances"][1]["restarts"], 0,
        "the other instance kept running: {after}"
    );
    let logged = ada.runtime_log_text(&release, |t| t.contains("restarting in")).await;
    assert!(logged.contains("instance 1 was killed by signal 9"), "{logged}");
    assert_eq!(fetch(&server, &host, "/", &[]).await.text(), "pair");

    // Positive control for the scans below: they find the running instances.
    assert!(
        processes_of(&release).len() >= 2,
        "the scan sees the instances: {:?}",
        processes_of(&release)
    );
    let groups = cgroups_of(&release);
    assert!(
        groups.iter().any(|(_, procs)| !procs.trim().is_empty()),
        "the scan sees their cgroups: {groups:?}"
    );
    // Each instance's groups carry the project's limits: 256 MiB, and the default 1000
    // millicores as a quota (with a burst of one period where the kernel has CPU burst).
    let file = |dir: &str, name: &str| std::fs::read_to_string(Path::new(dir).join(name)).ok();
    let (mut memory, mut cpu) = (0, 0);
    for (dir, _) in &groups {
        if let Some(limit) = file(dir, "memory.limit_in_bytes").or_else(|| file(dir, "memory.max")) {
            assert_eq!(limit.trim(), (256u64 << 20).to_string(), "{dir}");
            memory += 1;
        }
        if let Some(quota) = file(dir, "cpu.cfs_quota_us").or_else(|| file(dir, "cpu.max")) {
            assert!(
                quota.trim() == "100000" || quota.starts_with("100000 100000"),
                "{dir}: {quota}"
            );
            if let Some(burst) = file(dir, "cpu.cfs_burst_us").or_else(|| file(dir, "cpu.max.burst")) {
                assert_eq!(burst.trim(), "100000", "{dir}");
            }
            cpu += 1;
        }
    }
    assert!(
        memory >= 2 && cpu >= 2,
        "both instances' memory and cpu groups were read: {groups:?}"
    );
    let server_groups: Vec<std::path::PathBuf> = groups
        .iter()
        .filter_map(|(dir, _)| Path::new(dir).parent().map(Path::to_path_buf))
        .collect();
    assert!(
        !server_groups.is_empty() && server_groups.iter().all(|d| d.is_dir()),
        "control: the server's own groups exist while it runs: {server_groups:?}"
    );

    // SIGTERM of the server stops every instance: no process is left, no cgroup holds one.
    assert!(server.terminate().success());
    let left = processes_of(&release);
    assert!(left.is_empty(), "processes left after SIGTERM: {left:?}");
    let groups = cgroups_of(&release);
    assert!(
        groups.iter().all(|(_, procs)| procs.trim().is_empty()),
        "cgroups still hold processes: {groups:?}"
    );
    let left: Vec<_> = server_groups.iter().filter(|d| d.exists()).collect();
    assert!(
        left.is_empty(),
        "the server's own groups are removed as it stops: {left:?}"
    );
}
