//! The rule `Tasks` exists for: no control-plane work is spawned past it. Every `tokio::spawn`
//! (and every thread) in the sources must be in a place listed here, with why it has another owner.

use std::path::{Path, PathBuf};

/// Files that may call `tokio::spawn`, and the owner that joins what they spawn.
const ALLOWED: &[(&str, &str)] = &[
    (
        "shipyard-edge/src/proxy.rs",
        "a connection's upgraded stream: per-connection work of the edge's listener",
    ),
    (
        "shipyard-edge/src/idle.rs",
        "its tests' clients and apps (cfg(test) only)",
    ),
    (
        "shipyard-build/src/build/step.rs",
        "one step's output pumps, joined by the step before it returns",
    ),
    (
        "shipyard-runtime/src/instances/process.rs",
        "one process's output pumps and health watch, joined when its instance stops",
    ),
    (
        "shipyard-runtime/src/instances/mod.rs",
        "an instance set's supervisors, joined by `Instances::stop`",
    ),
    (
        "shipyard-domains/src/acme/mod.rs",
        "one certificate order, awaited by the issuer's pass that started it and aborted when that call ends",
    ),
    (
        "shipyard-databases/src/tools.rs",
        "a database tool's stderr reader, joined by `Tool::finish` (it ends with the tool's stderr)",
    ),
    (
        "shipyard/src/client/progress.rs",
        "the CLI's status line, its own process",
    ),
    (
        "shipyard-edge/src/data_plane.rs",
        "the edge's worker threads, joined by `serve` once each has let its connections end",
    ),
    (
        "shipyard-edge/src/upstream_pool.rs",
        "an upstream connection's driver: ends with its last sender (the pool's or a request's) or the worker's runtime",
    ),
    (
        "shipyard-edge/src/dispatch.rs",
        "a platform request's answer on the control plane, awaited by the request and aborted if it is dropped",
    ),
    (
        "shipyard-api/src/api/hashing.rs",
        "the one password-hashing thread, for the process's life, fed by a bounded queue",
    ),
    (
        "shipyard-sandbox/src/network/inside.rs",
        "a short-lived thread that enters a namespace to make one socket, whose answer is awaited",
    ),
    (
        "shipyard-sandbox/src/network/mod.rs",
        "a network helper's output drains, joined before its result is read",
    ),
];

/// How a task is spawned past `Tasks` (a `JoinSet` is an owner with a join point: allowed).
const SPAWNS: [&str; 6] = [
    "tokio::spawn(",
    "task::spawn(",
    "Handle::current().spawn(",
    "control.spawn(",
    "thread::spawn(",
    "thread::Builder::new()",
];

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn control_plane_work_is_spawned_only_through_tasks() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("crates directory").flatten() {
        let src = krate.path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(
        files.len() > 100,
        "positive control: the sources were found ({})",
        files.len()
    );
    let mut bare = Vec::new();
    let mut seen_allowed = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        if !SPAWNS.iter().any(|spawn| text.contains(spawn)) {
            continue;
        }
        let rel = file
            .strip_prefix(&crates)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.iter().any(|(allowed, _)| rel == *allowed) {
            seen_allowed.push(rel);
        } else {
            bare.push(rel);
        }
    }
    assert!(
        bare.is_empty(),
        "spawn control-plane work through shipyard_tasks::Tasks (or list the file in ALLOWED with its owner): {bare:?}"
    );
    let stale: Vec<_> = ALLOWED
        .iter()
        .filter(|(allowed, _)| !seen_allowed.iter().any(|seen| seen == allowed))
        .collect();
    assert!(
        stale.is_empty(),
        "listed files that no longer spawn (remove them): {stale:?}"
    );
}
