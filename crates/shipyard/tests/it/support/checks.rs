//! Checks many tests share: the contract's error shape, every file under a directory, the
//! mounts below one, and a `serve` that must refuse to start.

use std::path::{Path, PathBuf};

/// Asserts an error answer has the contract's shape and the given status.
pub fn assert_error(response: &shipyard_client::ApiResponse, status: u16) {
    assert_eq!(response.status, status, "unexpected status; body: {}", response.body);
    assert_error_shape(response);
}

/// Asserts a non-2xx answer is `{ statusCode, error, message }` with a matching code.
pub fn assert_error_shape(response: &shipyard_client::ApiResponse) {
    let body = &response.body;
    assert_eq!(
        body["statusCode"].as_u64(),
        Some(u64::from(response.status)),
        "statusCode in {body}"
    );
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "error in {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
}

/// Every file under `root` (a build disk by what is on it while mounted), for leak checks.
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            // Disks (a workspace's, a build disk, a HOME, a database's) are images of what
            // tenants wrote (sparse), not files the server writes: their contents are checked
            // where mounted.
            let disk_dir = |p: &Path| {
                ["disks", "workspaces", "homes", "databases"]
                    .iter()
                    .any(|d| p.ends_with(d))
            };
            // A workspace's disk's reserved blocks (`.storage-limit`): never written, as large
            // as the host's disk is free.
            let reserve = path.file_name().is_some_and(|n| n == ".storage-limit");
            if reserve || path.extension().is_some_and(|e| e == "img") && path.parent().is_some_and(disk_dir) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Mount points at or below `dir` in the test's (the host's) mount namespace.
pub fn mounts_below(dir: &Path) -> Vec<String> {
    let prefix = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| p.starts_with(&prefix))
        .map(str::to_owned)
        .collect()
}

/// Runs `serve` on the data directory `data` with `args` and `env`, where it must refuse to
/// start: its output once it has exited (it fails the test if still running after 30 s).
pub fn refused_serve(data: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut child = std::process::Command::new(super::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve kept running: {args:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    assert!(!out.status.success(), "serve must not start: {args:?}");
    out
}
