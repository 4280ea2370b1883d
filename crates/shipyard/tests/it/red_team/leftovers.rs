//! Red team (#30): on pasta's path a server killed with SIGKILL leaves its instances' network
//! relays and namespaces behind; the next server on the same data directory removes them, and a
//! stop leaves nothing of that data directory: no relay, namespace, limit group, mount or disk.

use crate::support::checks::mounts_below;
use crate::support::host::{alive, processes_naming};
use crate::support::{PASTA_NETWORK, TestServer};
use serde_json::json;
use std::time::{Duration, Instant};

/// Children of `pid` that are pasta relays, with the namespace each serves.
fn relays_of(pid: u32) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: the parent is the second field after the command.
        let parent = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(1));
        if parent != Some(pid.to_string().as_str()) {
            continue;
        }
        let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if let Some(i) = args.iter().position(|a| a == "--netns") {
            found.push((child, args.get(i + 1).cloned().unwrap_or_default()));
        }
    }
    found
}

#[tokio::test]
async fn a_killed_servers_relays_and_namespaces_go_at_its_restart_and_a_stop_leaves_nothing() {
    let mut server = TestServer::start(PASTA_NETWORK);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let js = "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);\n";
    let (_app, _) = ada.node_app_ready(&server, "kept", js, json!({ "instances": 2 })).await;
    let relays = relays_of(server.pid());
    assert_eq!(relays.len(), 2, "positive control: one relay per instance: {relays:?}");
    // Each relay runs in its instance's limit group (named as its namespace is, after the
    // server's prefix): its memory and sockets are the tenant's.
    for (pid, netns) in &relays {
        let instance = netns
            .rsplit('/')
            .next()
            .and_then(|n| n.splitn(3, '-').nth(2))
            .expect("a name");
        let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        assert!(
            groups.contains(&format!("/{instance}\n")),
            "relay {pid} is in {instance}'s group:\n{groups}"
        );
    }
    // `…/shipyard-<data directory's>-<run>`: what every namespace of this data directory starts with.
    let path = &relays[0].1;
    let name = path.rsplit('/').next().expect("a name");
    let prefix = name.splitn(3, '-').take(2).collect::<Vec<_>>().join("-") + "-";
    let prefix = format!("{}/{prefix}", path.rsplit_once('/').expect("a directory").0);

    let homes = server.layout().instances();
    assert_eq!(
        mounts_below(&homes).len(),
        2,
        "positive control: each instance's HOME is a disk of its own"
    );
    server.kill();
    assert_eq!(
        mounts_below(&homes).len(),
        2,
        "positive control: the killed server's disks stay mounted"
    );
    // The crash left them: the relays run on, orphaned, holding their namespaces.
    assert!(
        relays.iter().all(|(pid, _)| alive(*pid)),
        "positive control: the killed server's relays outlive it"
    );
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    let mut restarted = TestServer::start_in(dir, PASTA_NETWORK);
    let deadline = Instant::now() + Duration::from_secs(60);
    // The restart brings the release up again with relays of its own, and removes the old ones.
    while relays_of(restarted.pid()).len() < 2 {
        assert!(Instant::now() < deadline, "the restarted server's instances came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A namespace of the same name may be the restarted server's own (names follow the
    // release and instance): then one of its relays holds it.
    let current = relays_of(restarted.pid());
    for (pid, netns) in &relays {
        assert!(!alive(*pid), "relay {pid} of the killed server still runs");
        assert!(
            !std::path::Path::new(netns).exists() || current.iter().any(|(_, n)| n == netns),
            "{netns} is still there, held by no relay of the restarted server ({current:?})"
        );
    }

    assert!(restarted.terminate().success());
    let left = processes_naming(&prefix);
    assert!(left.is_empty(), "processes of {prefix}* left after the stop: {left:?}");
    let dir = std::path::Path::new(&prefix).parent().expect("netns directory");
    let namespaces: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.starts_with(&prefix))
        .collect();
    assert!(namespaces.is_empty(), "namespaces left: {namespaces:?}");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    assert!(!mounts.contains(&prefix), "mounts left: {prefix}");
    let disks = mounts_below(&server.work_root());
    assert!(disks.is_empty(), "disks left mounted: {disks:?}");
    let images: Vec<_> = std::fs::read_dir(&homes).into_iter().flatten().flatten().collect();
    assert!(images.is_empty(), "HOMEs left: {images:?}");
    let hash = prefix
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .trim_start_matches("shipyard-")
        .trim_end_matches('-')
        .to_owned();
    let groups: Vec<String> = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|c| c.path().join("shipyard").join(&hash))
        .filter(|g| g.exists())
        .map(|g| g.display().to_string())
        .collect();
    assert!(groups.is_empty(), "limit groups left: {groups:?}");
}
