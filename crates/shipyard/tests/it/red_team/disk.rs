//! Red team (#30): disk is bounded by the kernel. A project's builds write to a disk image of
//! `--build-disk` (workspaces and cache), a release larger than `--artifact-max` is refused before
//! it is copied, an instance's HOME is an image of `limits.diskMb` that goes when it stops, and a
//! workspace's disk holding all of them is held to its `storageGbLimit`. A writer past a limit
//! gets ENOSPC (or an I/O error) and the host's disk moves by no more than the limit.

use crate::support::TestServer;
use crate::support::checks::mounts_below;
use crate::support::deploy::static_build;
use serde_json::{Value, json};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;

/// Host disk taken by files under `dir` (blocks in use, as `du` counts), not descending into
/// filesystems mounted below it: what the host pays, images counted by what they hold.
fn host_bytes(dir: &Path) -> u64 {
    let Ok(root) = std::fs::symlink_metadata(dir) else {
        return 0;
    };
    let mut total = 0;
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.dev() != root.dev() {
            continue;
        }
        total += meta.blocks() * 512;
        if meta.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    total
}

/// What the server holds on the host's disk: its data directory and its work root, once what
/// is written is on the disk (a build disk's writes reach the host through its workspace's
/// disk, each with its page cache: one `sync` per layer).
fn server_bytes(server: &TestServer) -> u64 {
    for _ in 0..2 {
        let synced = std::process::Command::new("sync").status().expect("sync");
        assert!(synced.success());
    }
    let (data, work) = (server.data_dir(), server.work_root());
    host_bytes(&data) + if work == data { 0 } else { host_bytes(&work) }
}

#[tokio::test]
async fn a_build_past_its_disk_fails_saying_so_and_a_release_past_artifact_max_is_refused() {
    let server = TestServer::start(&["--build-disk", "64MiB", "--artifact-max", "8MiB"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let deploy = |name: &'static str, command: &'static str| {
        let ada = &ada;
        let server = &server;
        async move {
            let app = ada
                .deployable(server, name, "static", &[("index.html", "x")], static_build(command))
                .await;
            let done = ada
                .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
                .await;
            (app, done)
        }
    };
    // Positive control: 16 MiB written and removed again, a 4 MiB release; both under the limits.
    let (_, fine) = deploy(
        "fine",
        "head -c 16M /dev/zero > scratch.bin && rm scratch.bin && mkdir -p dist \
         && head -c 4M /dev/urandom > dist/blob.bin && echo ok > dist/index.html",
    )
    .await;
    assert_eq!(fine["status"], "ready", "{fine}");

    let before = server_bytes(&server);
    // The cache outlives the build, so what was written stays on the build disk to be measured.
    let (full_app, full) = deploy("full", "head -c 200M /dev/zero > $HOME/.shipyard-cache/big.bin").await;
    assert_eq!(full["status"], "failed", "{full}");
    let error = full["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("the build wrote more than 64 MiB (limit --build-disk); "),
        "{error}"
    );
    let grew = server_bytes(&server).saturating_sub(before);
    assert!(
        grew >= 32 * MIB,
        "positive control: the build's writes are seen on the host ({grew} bytes)"
    );
    assert!(
        grew <= 72 * MIB,
        "the host's disk grew by {grew} bytes, past the 64 MiB limit"
    );

    let artifacts = server.workspace_disk(&ada.tenant_id).join("artifacts");
    let releases = std::fs::read_dir(&artifacts).map_or(0, Iterator::count);
    let (_, large) = deploy(
        "large",
        "mkdir -p dist && head -c 12M /dev/urandom > dist/big.bin && echo ok > dist/index.html",
    )
    .await;
    assert_eq!(large["status"], "failed", "{large}");
    assert_eq!(
        large["error"], "the release is larger than 8 MiB (limit --artifact-max)",
        "{large}"
    );
    assert_eq!(
        std::fs::read_dir(&artifacts).map_or(0, Iterator::count),
        releases,
        "nothing of the refused release was stored"
    );
    // The full cache goes with its project: the disk is unmounted and its image removed.
    let disk = server.build_disk(&full_app.project_id);
    assert_eq!(
        mounts_below(&disk).len(),
        1,
        "positive control: the build disk stays mounted between builds"
    );
    ada.delete_project(&full_app).await;
    assert!(
        mounts_below(&disk).is_empty(),
        "the deleted project's build disk is unmounted"
    );
    let image = server.build_disk_image(&ada.tenant_id, &full_app.project_id);
    assert!(!image.exists(), "{} removed", image.display());
    // The workspace's disk hands freed blocks back to the host after its journal commits
    // (every 5 s, or at a sync), and then in the background: bounded wait.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = server_bytes(&server).saturating_sub(before);
        if left < 8 * MIB {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the host got the build disk's space back ({left} bytes still held)"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Fills its HOME in MiB chunks at start and says how far it got, then serves.
const FILL_HOME_JS: &str = r#"
const fs = require('fs');
const chunk = Buffer.alloc(1 << 20, 1);
let wrote = 0, code = 'none';
const fd = fs.openSync(require('path').join(process.env.HOME, 'fill.bin'), 'w');
try { for (let i = 0; i < 64; i++) { fs.writeSync(fd, chunk); wrote++; } } catch (e) { code = e.code; }
console.log(`FILLED ${wrote} MiB ${code}`);
require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);
"#;

#[tokio::test]
async fn an_instance_that_fills_its_home_gets_enospc_and_its_home_goes_with_it() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let runtime = json!({ "limits": { "diskMb": 16 } });
    let (app, done) = ada.node_app_ready(&server, "filler", FILL_HOME_JS, runtime).await;
    let release = done["releaseId"].as_str().expect("release").to_owned();
    let text = ada.runtime_log_text(&release, |t| t.contains("FILLED")).await;
    let line = text
        .lines()
        .find(|l| l.contains("FILLED"))
        .unwrap_or_default()
        .to_owned();
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "FILLED").expect("FILLED");
    let wrote: u64 = words.get(at + 1).and_then(|w| w.parse().ok()).expect("MiB written");
    assert!(wrote >= 8, "positive control: the HOME takes writes ({line})");
    assert!(wrote <= 16, "the HOME held more than its 16 MiB ({line})");
    assert_eq!(words.get(at + 3).copied(), Some("ENOSPC"), "{line}");

    let instances = server.layout().instances();
    let mounted = mounts_below(&instances);
    assert_eq!(
        mounted.len(),
        1,
        "positive control: the instance's HOME is a disk of its own"
    );
    let homes = server.workspace_disk(&ada.tenant_id).join("homes");
    let held = host_bytes(&homes);
    assert!(held >= 8 * MIB, "positive control: the HOME's image holds its writes");
    assert!(held <= 17 * MIB, "the workspace holds {held} bytes for a 16 MiB HOME");

    ada.delete_project(&app).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: Vec<Value> = std::fs::read_dir(&instances)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| json!(e.path().display().to_string()))
            .collect();
        let images = std::fs::read_dir(&homes).into_iter().flatten().count();
        if left.is_empty() && images == 0 && mounts_below(&instances).is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the HOME outlived its project: {left:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn serve_refuses_to_start_where_disks_cannot_be_limited_and_names_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A host without loop devices or e2fsprogs cannot be made on this machine: a `mkfs.ext4`
    // that fails, first on PATH, stands in for one (the only fake here).
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).expect("mkdir");
    let fake = bin.join("mkfs.ext4");
    std::fs::write(&fake, "#!/bin/sh\necho 'mkfs.ext4: no loop device here' >&2\nexit 1\n").expect("write");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = crate::support::checks::refused_serve(&dir.path().join("data"), &[], &[("PATH", &path)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("disk limits cannot be enforced")
            && stderr.contains("no loop device here")
            && stderr.contains("--insecure-no-sandbox"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_workspace_past_its_storage_limit_fails_saying_so_and_the_limit_moves_both_ways() {
    const GIB: u64 = 1 << 30;
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let limit = |gib: i64| {
        let ada = &ada;
        async move {
            ada.session
                .patch(
                    &format!("/admin/tenants/{}", ada.tenant_id),
                    &json!({ "storageGbLimit": gib }),
                )
                .await
                .expect("request")
        }
    };
    assert_eq!(limit(0).await.status, 400, "a limit of nothing is refused");
    let set = limit(1).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["storageGbLimit"], 1);

    // 1.1 GiB into the project's cache (kept after the build, so it is measured): under
    // --build-disk (10 GiB), over the workspace's 1 GiB.
    let hoard = ada
        .deployable(
            &server,
            "hoard",
            "static",
            &[("index.html", "x")],
            static_build(
                "head -c 1100M /dev/zero > $HOME/.shipyard-cache/big.bin; mkdir -p dist && echo ok > dist/index.html",
            ),
        )
        .await;
    let before = server_bytes(&server);
    let over = ada
        .finished(ada.deploy(&hoard).await["id"].as_str().expect("id"), 180)
        .await;
    assert_eq!(over["status"], "failed", "{over}");
    let error = over["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("of its 1 GiB (storageGbLimit)"),
        "the failure names the limit: {error}"
    );
    let grew = server_bytes(&server).saturating_sub(before);
    assert!(
        grew >= GIB / 2,
        "positive control: the build's writes are seen on the host ({grew} bytes)"
    );
    assert!(
        grew <= GIB + 64 * MIB,
        "the host's disk grew by {grew} bytes, past the workspace's 1 GiB"
    );

    // Positive control: with room, a 1.1 GiB release (under --artifact-max) is stored.
    assert_eq!(limit(4).await.status, 200);
    let build = static_build("mkdir -p dist && head -c 1100M /dev/zero > dist/big.bin && echo ok > dist/index.html");
    let app = ada
        .deployable(&server, "large", "static", &[("index.html", "x")], build)
        .await;
    let fits = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 180)
        .await;
    assert_eq!(fits["status"], "ready", "{fits}");
    let big = server
        .artifact(fits["releaseId"].as_str().expect("release"))
        .join("dist/big.bin");
    assert_eq!(std::fs::metadata(&big).map(|m| m.len()).ok(), Some(1100 * MIB));

    // The limit cannot go below what the workspace holds, and nothing changes when refused.
    let refused = limit(1).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("already holds 2."), "{message}");
    let tenants = ada
        .session
        .get("/admin/tenants")
        .await
        .expect("request")
        .ok()
        .expect("tenants");
    assert_eq!(tenants["items"][0]["storageGbLimit"], 4, "{tenants}");
    ada.delete_project(&app).await;
    ada.delete_project(&hoard).await;
    assert_eq!(limit(1).await.status, 200, "with its files gone, the limit goes down");
}
