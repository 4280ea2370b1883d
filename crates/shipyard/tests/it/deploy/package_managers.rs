//! Builds that real repositories need: yarn, pnpm at an older major than the newest, bun,
//! uv and poetry, each to ready with the platform providing the tool; and the cache: an
//! unchanged npm project's second build installs nothing from the registry.

use crate::support::TestServer;
use serde_json::{Value, json};

/// Deploys a fixture; its server is started as a release must be (a server release is ready
/// only once it answers): the node fixtures with the start command detection gives them (their
/// package manager's `run start`, so the tool must be there at run time too), and for the
/// python fixtures (which install a package, not a web framework) Python's own HTTP server.
async fn deploy_to_ready(server: &TestServer, name: &str, kind: &str, files: &[(&str, &str)]) -> (Value, Vec<String>) {
    let ada = server.tenant(&format!("{name}@example.com"), name).await;
    let config = if kind == "python" {
        json!({ "runtime": { "startCommand": "python3 -m http.server $PORT", "port": 3000 } })
    } else {
        json!({ "runtime": { "port": 3000 } })
    };
    let app = ada.deployable(server, name, kind, files, config).await;
    let done = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 400)
        .await;
    let lines = ada
        .log_lines(done["id"].as_str().expect("id"))
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    (done, lines)
}

const SERVER_JS: &str = "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT || 3000);";

#[tokio::test]
async fn yarn_classic_and_berry_apps_deploy() {
    let server = TestServer::start(&["--allow-signup"]);
    let classic_lock = include_str!("../fixtures/yarn-classic.lock");
    let (done, lines) = deploy_to_ready(
        &server,
        "classic",
        "node",
        &[
            ("package.json", r#"{"name":"yarnapp","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"left-pad":"1.3.0"}}"#),
            ("yarn.lock", classic_lock),
            ("server.js", SERVER_JS),
        ],
    )
    .await;
    assert_eq!(done["status"], "ready", "{done} {lines:#?}");
    assert!(
        lines.iter().any(|l| l == "Package manager: yarn 1 (classic)"),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l == "$ yarn install --frozen-lockfile"));

    let (done, lines) = deploy_to_ready(
        &server,
        "berry",
        "node",
        &[
            ("package.json", r#"{"name":"berryapp","version":"1.0.0","private":true,"packageManager":"yarn@4.5.3","scripts":{"start":"node server.js"},"dependencies":{"left-pad":"1.3.0"}}"#),
            (".yarnrc.yml", "nodeLinker: node-modules\n"),
            ("yarn.lock", include_str!("../fixtures/yarn-berry.lock")),
            ("server.js", SERVER_JS),
        ],
    )
    .await;
    assert_eq!(done["status"], "ready", "{done} {lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Package manager: yarn 4.5.3 (berry")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn pnpm_follows_an_older_lockfile_major() {
    let server = TestServer::start(&[]);
    let lock = include_str!("../fixtures/pnpm8-lock.yaml");
    let (done, lines) = deploy_to_ready(
        &server,
        "pnpm8",
        "node",
        &[
            ("package.json", r#"{"name":"pnpmapp","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"left-pad":"1.3.0"}}"#),
            ("pnpm-lock.yaml", lock),
            ("server.js", SERVER_JS),
        ],
    )
    .await;
    assert_eq!(done["status"], "ready", "{done} {lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("Package manager: pnpm 8")),
        "pnpm 8 for lockfileVersion 6.0: {lines:#?}"
    );
    assert!(lines.iter().any(|l| l == "$ pnpm install --frozen-lockfile"));
    // Ready means it answered: started by pnpm itself, from the copy the release carries.
    assert!(
        lines.iter().any(|l| l.ends_with(": pnpm run start")),
        "started with pnpm: {lines:#?}"
    );
}

#[tokio::test]
async fn bun_is_provided_from_the_npm_registry() {
    let server = TestServer::start(&[]);
    let (done, lines) = deploy_to_ready(
        &server,
        "bunapp",
        "node",
        &[
            ("package.json", r#"{"name":"bunapp","version":"1.0.0","private":true,"scripts":{"start":"node server.js"},"dependencies":{"left-pad":"1.3.0"}}"#),
            ("bun.lock", include_str!("../fixtures/bun.lock")),
            ("server.js", SERVER_JS),
        ],
    )
    .await;
    assert!(
        lines.iter().any(|l| l.starts_with("Package manager: bun")),
        "{lines:#?}"
    );
    match done["status"].as_str() {
        Some("ready") => assert!(lines.iter().any(|l| l == "$ bun install --frozen-lockfile")),
        _ => assert!(
            done["error"].as_str().is_some_and(|e| e.starts_with("setup command")),
            "bun could not be provided: {done}"
        ),
    }
}

#[tokio::test]
async fn uv_and_poetry_projects_deploy() {
    let server = TestServer::start(&["--allow-signup"]);
    let app_py = "from flask import Flask\napp = Flask(__name__)\n";
    let uv_lock = include_str!("../fixtures/uv.lock");
    let (done, lines) = deploy_to_ready(
        &server,
        "uvapp",
        "python",
        &[
            ("pyproject.toml", "[project]\nname = \"uvapp\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\ndependencies = [\"six==1.16.0\"]\n"),
            ("uv.lock", uv_lock),
            ("app.py", app_py),
        ],
    )
    .await;
    assert_eq!(done["status"], "ready", "{done} {lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("Package manager: uv")), "{lines:#?}");

    let (done, lines) = deploy_to_ready(
        &server,
        "poetryapp",
        "python",
        &[
            ("pyproject.toml", "[tool.poetry]\nname = \"poetryapp\"\nversion = \"0.1.0\"\ndescription = \"\"\nauthors = []\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nsix = \"1.16.0\"\n\n# This machine's registry serves PyPI's simple index but not its per-version JSON API,\n# which poetry's default source needs; a simple-index source is how private mirrors work too.\n[[tool.poetry.source]]\nname = \"pypi-simple\"\nurl = \"https://pypi.org/simple/\"\npriority = \"primary\"\n\n[build-system]\nrequires = [\"poetry-core\"]\nbuild-backend = \"poetry.core.masonry.api\"\n"),
            ("app.py", app_py),
        ],
    )
    .await;
    assert_eq!(done["status"], "ready", "{done} {lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("Package manager: poetry")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn an_unchanged_npm_project_installs_from_the_cache_alone() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada.npm_deployable(&server, "cached").await;
    let lines_of = |done: Value| {
        let ada = ada.clone();
        async move {
            ada.log_lines(done["id"].as_str().expect("id"))
                .await
                .iter()
                .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let first = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(first["status"], "ready", "{first}");
    let lines = lines_of(first).await;
    assert!(
        lines.iter().any(|l| l.starts_with("cache miss: first build")),
        "{lines:#?}"
    );
    // npm warns about each setting it does not know (pnpm's store-dir was one): none is set.
    assert!(lines.iter().any(|l| l == "$ npm ci"), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("Unknown env config")), "{lines:#?}");

    // node_modules is copied into the cache just after the deployment is ready.
    let snapshot = server.build_disk(&app.project_id).join("cache/files/node_modules");
    for _ in 0..100 {
        if snapshot.join("left-pad").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        snapshot.join("left-pad").exists(),
        "node_modules snapshot in {}",
        snapshot.display()
    );
    // Send npm through a proxy on a closed loopback port: a second build can only succeed
    // from the cache, without a single request.
    ada.post_ok(
        &format!("/tenants/{}/secrets", ada.tenant_id),
        &json!({ "name": "npm_config_https_proxy", "value": "http://127.0.0.1:9", "scope": "project", "projectId": app.project_id }),
    )
    .await;
    let second = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    let lines = lines_of(second.clone()).await;
    assert_eq!(second["status"], "ready", "{second} {lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cache hit: package-lock.json and npm")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("retrying online")),
        "nothing came from the registry: {lines:#?}"
    );

    // Without the dead proxy, a build asked to clear the cache starts from scratch.
    let secrets = ada
        .token
        .get(&format!("/tenants/{}/secrets", ada.tenant_id))
        .await
        .expect("request")
        .body;
    let proxy = secrets["items"][0]["id"].as_str().expect("secret id").to_owned();
    assert_eq!(
        ada.token
            .delete(&format!("/tenants/{}/secrets/{proxy}", ada.tenant_id))
            .await
            .expect("request")
            .status,
        204
    );
    let cleared = ada
        .post_ok(
            &format!(
                "/tenants/{}/projects/{}/environments/{}/deployments",
                ada.tenant_id, app.project_id, app.environment_id
            ),
            &json!({ "clearCache": true }),
        )
        .await;
    let cleared = ada.finished(cleared["id"].as_str().expect("id"), 120).await;
    let lines = lines_of(cleared.clone()).await;
    assert_eq!(cleared["status"], "ready", "{cleared} {lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("cache miss: cleared on request")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn two_environments_building_at_once_both_restore_a_complete_node_modules() {
    let server = TestServer::start(&["--build-concurrency", "2"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada.npm_deployable(&server, "twoenvs").await;
    let first = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 120)
        .await;
    assert_eq!(first["status"], "ready", "{first}");
    let cache = server.data_dir().join("cache").join(&app.project_id).join("files");
    for _ in 0..100 {
        if cache.join("node_modules/left-pad/index.js").exists() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let staging_id = ada.add_environment(&app, "staging").await;
    // Both restore from the one project cache while each swaps in its own snapshot when ready.
    let mut ids = Vec::new();
    for env in [app.environment_id.as_str(), &staging_id] {
        let made = ada.deploy_env(&app, env).await;
        ids.push(made["id"].as_str().expect("id").to_owned());
    }
    for id in &ids {
        let done = ada.finished(id, 120).await;
        assert_eq!(done["status"], "ready", "{done}");
        let lines = ada.log_lines(id).await;
        assert!(
            lines
                .iter()
                .any(|l| l["line"] == "node_modules restored from the cache; nothing to install"),
            "{id} restored from the cache: {lines:?}"
        );
        let module = server
            .artifact(done["releaseId"].as_str().expect("release"))
            .join("node_modules/left-pad");
        for file in ["package.json", "index.js"] {
            assert!(module.join(file).is_file(), "{id}: {} is complete", module.display());
        }
        assert!(
            !std::fs::symlink_metadata(module.parent().expect("node_modules"))
                .expect("node_modules")
                .is_symlink(),
            "the artifact holds a copy, not the cache's link"
        );
    }
}
