//! Red team (#38): on the kernel's path a server killed with SIGKILL leaves its instances' veth
//! pairs and the host table's forwards into them behind (nothing else holds them); the next
//! server on the same data directory removes them, and a stop leaves none.

use crate::support::host::{kernel_forwards, namespace_address};
use crate::support::{KERNEL_NETWORK, TestServer};
use serde_json::json;
use shipyard_sandbox::network::NETNS_DIR;
use std::time::{Duration, Instant};

/// The namespaces of this host whose names start with `prefix`, each as `<name>@<the
/// namespace's inode>` (names repeat across a restart, namespaces do not) with its `eth0` address.
fn namespaces(prefix: &str) -> Vec<(String, String)> {
    std::fs::read_dir(NETNS_DIR)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(prefix))
        .filter_map(|name| {
            let path = std::path::Path::new(NETNS_DIR).join(&name);
            let addr = namespace_address(&path)?;
            let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&path).ok()?);
            Some((format!("{name}@{inode}"), addr))
        })
        .collect()
}

/// Whether the host end of the veth pair whose namespace end has `addr` exists (`sy-<slot>`,
/// the slot being the address's /30 within 10.251.0.0/16).
fn veth_exists(addr: &str) -> bool {
    let Ok(addr) = addr.parse::<std::net::Ipv4Addr>() else {
        return false;
    };
    let slot = (u32::from(addr) - u32::from(std::net::Ipv4Addr::new(10, 251, 0, 0))) / 4;
    std::path::Path::new(&format!("/sys/class/net/sy-{slot}")).exists()
}

#[tokio::test]
async fn a_killed_servers_veth_pairs_and_forwards_go_at_its_restart_and_a_stop_leaves_none() {
    let mut server = TestServer::start(KERNEL_NETWORK);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let js = "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);\n";
    let (app, _) = ada.node_app_ready(&server, "kept", js, json!({ "instances": 2 })).await;
    // Every namespace of this data directory's server starts with `shipyard-<hash>-`; the
    // instances' names carry their release.
    let all = namespaces("shipyard-");
    let view = ada.runtime_view(&app).await;
    let release = view["activeRelease"]["id"].as_str().expect("a release").to_owned();
    let old: Vec<(String, String)> = all.into_iter().filter(|(n, _)| n.contains(&release)).collect();
    assert_eq!(old.len(), 2, "positive control: a namespace per instance: {old:?}");
    let prefix = old[0].0.splitn(3, '-').take(2).collect::<Vec<_>>().join("-") + "-";
    let old_forwards: Vec<(u16, String)> = kernel_forwards()
        .into_iter()
        .filter(|(_, a)| old.iter().any(|(_, addr)| addr == a))
        .collect();
    assert_eq!(
        old_forwards.len(),
        2,
        "positive control: a forward per instance: {old_forwards:?}"
    );
    assert!(
        old.iter().all(|(_, a)| veth_exists(a)),
        "positive control: the pairs exist"
    );

    server.kill();
    assert!(
        old.iter().all(|(_, a)| veth_exists(a)),
        "positive control: the killed server's pairs outlive it"
    );
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().expect("tempdir"));
    // The server removes what the killed one left before it answers; names of the new
    // namespaces may repeat the old ones (they follow the release, the instance and a count),
    // their inodes do not.
    let mut restarted = TestServer::start_in(dir, KERNEL_NETWORK);
    let deadline = Instant::now() + Duration::from_secs(60);
    let current = loop {
        let current: Vec<_> = namespaces(&prefix)
            .into_iter()
            .filter(|(n, _)| n.contains(&release))
            .collect();
        if current.len() >= 2 && current.iter().all(|(n, _)| !old.iter().any(|(o, _)| o == n)) {
            break current;
        }
        assert!(Instant::now() < deadline, "the restarted server's instances came back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    // An address may be the restarted server's own again (slots are reused): then it is one of
    // its current namespaces'.
    let ours = |addr: &str| current.iter().any(|(_, a)| a == addr);
    for (_, addr) in &old {
        assert!(
            !veth_exists(addr) || ours(addr),
            "the killed server's pair of {addr} is still there"
        );
    }
    for (port, addr) in &old_forwards {
        assert!(
            !kernel_forwards().iter().any(|(p, a)| p == port && a == addr) || ours(addr),
            "the killed server's forward {port} → {addr} is still there"
        );
    }

    assert!(restarted.terminate().success());
    let left = namespaces(&prefix);
    assert!(left.is_empty(), "namespaces left after the stop: {left:?}");
    for (_, addr) in old.iter().chain(&current) {
        assert!(!veth_exists(addr), "the pair of {addr} is left after the stop");
        assert!(
            !kernel_forwards().iter().any(|(_, a)| a == addr),
            "a forward to {addr} is left after the stop"
        );
    }
}
