//! Red team, files and environment (#10): secrets that would steer a host-side process, secret
//! values visible outside the sandbox, repository links the server would follow, and artifacts
//! that link into the platform's files. Each probe has a positive control, so a test cannot pass
//! by breaking its probe.

use crate::support::deploy::static_build;
use crate::support::git::commit;
use crate::support::{TestServer, assert_error};
use serde_json::json;
use std::os::unix::fs::symlink;

#[tokio::test]
async fn secrets_that_steer_the_loader_or_an_interpreter_are_refused() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let post = |name: &str, value: &str| {
        let body = json!({ "name": name, "value": value, "scope": "workspace" });
        let (token, path) = (ada.token.clone(), format!("/tenants/{}/secrets", ada.tenant_id));
        async move { token.post(&path, &body).await.expect("request") }
    };
    for (name, value) in [
        ("LD_PRELOAD", "/srv/app/node_modules/.cache/evil.so"),
        ("LD_LIBRARY_PATH", "/home/build/.shipyard-cache"),
        ("BASH_ENV", "/srv/app/x.sh"),
        ("NODE_OPTIONS", "--require /home/build/.shipyard-cache/x.js"),
        ("NODE_OPTIONS", "--import=/srv/app/x.mjs"),
    ] {
        let refused = post(name, value).await;
        assert_error(&refused, 400);
        assert!(
            refused.body["message"]
                .as_str()
                .is_some_and(|m| m.contains(name) || m.contains("NODE_OPTIONS"))
        );
    }
    // Positive controls: an ordinary NODE_OPTIONS and an ordinary name are accepted.
    let fine = post("NODE_OPTIONS", "--max-old-space-size=512").await;
    assert_eq!(fine.status, 201, "{}", fine.body);
    assert_eq!(post("DATABASE_URL", "postgres://x").await.status, 201);
    // A PATCH cannot smuggle the preload in either.
    let patched = ada
        .token
        .patch(
            &format!(
                "/tenants/{}/secrets/{}",
                ada.tenant_id,
                fine.body["id"].as_str().expect("id")
            ),
            &json!({ "value": "--require /tmp/x.js" }),
        )
        .await
        .expect("request");
    assert_error(&patched, 400);
}

/// Stores a workspace secret without the API, sealed with the server's own key.
async fn plant_secret(server: &TestServer, tenant: &str, name: &str, value: &str) {
    use shipyard_store::{Backend, Jobs, Secrets};
    let key = std::fs::read(server.data_dir().join("master.key")).expect("master.key");
    let secret_box = shipyard_core::SecretBox::new(&key).expect("key");
    let store = shipyard_store::SqliteStore::open(&server.layout().database())
        .await
        .expect("open the store");
    let tenant = shipyard_core::TenantId::from_trusted(tenant.to_owned());
    let mut tx = store.write().await.expect("begin");
    let scope = tx.worker_scope(&tenant).await.expect("scope").expect("workspace");
    let aad = shipyard_store::secrets::secret_aad(&tenant, shipyard_core::SecretScope::Workspace, "", name);
    let new = shipyard_store::NewSecret {
        name: shipyard_core::EnvVarName::parse(name).expect("an env-var name"),
        scope: shipyard_core::SecretScope::Workspace,
        project_id: None,
        environment_id: None,
        sealed: secret_box.seal(value.as_bytes(), &aad),
    };
    tx.create_secret(&scope, &new).await.expect("secret");
    shipyard_store::SqliteStore::commit(tx).await.expect("commit");
    store.close().await;
}

/// Whether `pid` lives in this process's pid namespace (outside every sandbox).
fn on_the_host(pid: &str) -> bool {
    let ours = std::fs::read_link("/proc/self/ns/pid").ok();
    ours.is_some() && std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok() == ours
}

#[tokio::test]
async fn secret_values_never_reach_a_process_outside_the_sandbox() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(
            &server,
            "sleeper",
            "static",
            &[("index.html", "x")],
            static_build("sleep 6; mkdir dist && cp index.html dist/"),
        )
        .await;
    // Written into the store directly, past the API's name check, as `LD_PRELOAD`: even a
    // secret the API would refuse never reaches a process outside the sandbox.
    let sentinel = "/nonexistent/sentinel-7Qw2mZ81vK.so";
    plant_secret(&server, &ada.tenant_id, "LD_PRELOAD", sentinel).await;
    let id = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&id, 30, |s| s == "building").await;
    // Scan while the build sleeps: the sleeping step has the value (positive control), and
    // nothing in the host's pid namespace does, in its environment or its arguments.
    let mut inside = 0;
    for _ in 0..50 {
        inside = 0;
        for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let has = |bytes: &[u8]| bytes.windows(sentinel.len()).any(|w| w == sentinel.as_bytes());
            if on_the_host(&pid) {
                assert!(
                    !has(&environ),
                    "pid {pid} outside the sandbox has the secret in its environment"
                );
                assert!(
                    !has(&cmdline),
                    "pid {pid} outside the sandbox has the secret in its arguments"
                );
            } else if has(&environ) {
                inside += 1;
            }
        }
        if inside > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(inside > 0, "positive control: the sandboxed build has the secret");
    assert_eq!(ada.finished(&id, 60).await["status"], "ready");
}

#[tokio::test]
async fn manifests_that_are_links_to_devices_or_huge_end_clearly_without_growing_the_server() {
    // A denial-of-service guard with a generous bound, not a benchmark.
    let server = TestServer::start(&["--build-memory", "256MiB"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let before = server.peak_rss_kib();
    let package = r#"{"name":"app","private":true,"scripts":{"start":"node server.js"}}"#;
    let mut ended = Vec::new();
    for (name, link) in [("zero-manifest", "package.json"), ("zero-lock", "package-lock.json")] {
        let app = ada
            .deployable(
                &server,
                name,
                "node",
                &[("package.json", package), ("server.js", "")],
                serde_json::Value::Null,
            )
            .await;
        std::fs::remove_file(app.repo.join(link)).ok();
        symlink("/dev/zero", app.repo.join(link)).expect("plant the link");
        commit(&app.repo, &[], "link a manifest to /dev/zero");
        ended.push(
            ada.finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
                .await,
        );
    }
    // A 200 MB lockfile: hashed streaming for the cache key, never read whole by the server.
    let big = ada
        .deployable(
            &server,
            "big-lock",
            "node",
            &[("package.json", package), ("server.js", "")],
            serde_json::Value::Null,
        )
        .await;
    let lock = std::fs::File::create(big.repo.join("package-lock.json")).expect("lockfile");
    lock.set_len(200 * 1024 * 1024).expect("200 MB");
    commit(&big.repo, &[], "a 200 MB lockfile");
    ended.push(
        ada.finished(ada.deploy(&big).await["id"].as_str().expect("id"), 240)
            .await,
    );
    for done in &ended {
        assert!(matches!(done["status"].as_str(), Some("failed" | "ready")), "{done}");
        if done["status"] == "failed" {
            assert!(
                done["error"].as_str().is_some_and(|e| !e.is_empty()),
                "a sentence: {done}"
            );
        }
    }
    for (done, name) in ended.iter().zip(["package.json", "package-lock.json"]) {
        let error = done["error"].as_str().unwrap_or_default();
        assert_eq!(done["status"], "failed", "{done}");
        assert!(error.contains(name) && error.contains("symbolic link"), "{error}");
    }
    let detect = ada
        .token
        .post(
            &format!("/tenants/{}/projects/detect", ada.tenant_id),
            &json!({ "repositoryConnectionId": ada.token.get(&format!("/tenants/{}/repository-connections", ada.tenant_id)).await.expect("request").body["items"][0]["id"] }),
        )
        .await
        .expect("request");
    assert!(
        detect.status < 500,
        "detection of a linked manifest is no crash: {}",
        detect.body
    );
    let after = server.peak_rss_kib();
    assert!(
        after < before + 150 * 1024,
        "peak resident memory grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test]
async fn an_artifact_may_not_link_into_the_data_directory() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let data = server.data_dir();
    let app = ada
        .deployable(
            &server,
            "linker",
            "static",
            &[("index.html", "x")],
            json!({ "build": { "outputDirectory": "dist" } }),
        )
        .await;
    symlink(&data, app.repo.join("dist")).expect("plant the link");
    commit(&app.repo, &[], "dist is the data directory");
    let failed = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("`dist` is a symlink to") && error.contains("outside the repository"),
        "{error}"
    );
    assert!(failed["releaseId"].is_null(), "no release was made");

    // Positive control: links inside the repository and to host files every sandbox sees stay.
    let fine = ada
        .deployable(
            &server,
            "fine",
            "static",
            &[("site/index.html", "x")],
            json!({ "build": { "outputDirectory": "site" } }),
        )
        .await;
    symlink("index.html", fine.repo.join("site/home.html")).expect("link");
    symlink("/etc/os-release", fine.repo.join("site/os-release.txt")).expect("link");
    commit(&fine.repo, &[], "harmless links");
    let ready = ada
        .finished(ada.deploy(&fine).await["id"].as_str().expect("id"), 60)
        .await;
    assert_eq!(ready["status"], "ready", "{ready}");
}

#[tokio::test]
async fn a_planted_snapshot_link_never_lets_the_server_write_through_it() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada.npm_deployable(&server, "planted").await;
    let first = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(first["status"], "ready", "{first}");
    let cache = server.build_disk(&app.project_id).join("cache/files");
    let scratch = server.dir.path().join("scratch");
    std::fs::create_dir_all(&scratch).expect("scratch");
    std::fs::write(scratch.join("marker"), "mine").expect("marker");
    // The next deployment's snapshot generation is named after it: plant that name as a link
    // to a directory of ours before its build ends, as a build sharing the cache could.
    let second = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    symlink(&scratch, cache.join(format!("node_modules.snap-{second}"))).expect("plant");
    assert_eq!(ada.finished(&second, 120).await["status"], "ready");
    // The snapshot runs just after ready: give it a bounded moment.
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let names: Vec<String> = std::fs::read_dir(&scratch)
        .expect("scratch")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["marker"], "the server wrote through the planted link");

    // Positive control: a root `cp -a` to the same planted name, as the server used to run,
    // does write into the directory the link names.
    let planted = cache.join(format!("node_modules.snap-{second}"));
    let _ = std::fs::remove_file(&planted);
    let _ = std::fs::remove_dir_all(&planted);
    symlink(&scratch, &planted).expect("plant again");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(
            server
                .artifact(first["releaseId"].as_str().expect("release"))
                .join("node_modules"),
        )
        .arg(cache.join(format!("node_modules.snap-{second}")))
        .status()
        .expect("cp");
    assert!(copied.success());
    assert!(
        scratch.join("node_modules/left-pad").exists(),
        "the probe writes through a link"
    );
}
