//! End-to-end deploys of tiny real apps from git repositories the tests create: a static site,
//! a Vite React app (npm), an Express app (npm) and a Flask app (pip). Package installs go to
//! the public registries, which this machine reaches; everything else stays on loopback.

use crate::support::TestServer;
use crate::support::fixtures::EXPRESS_APP;
use crate::support::fixtures::vite_react_app_files;
use serde_json::Value;

#[tokio::test]
async fn a_static_site_deploys_to_ready_with_its_artifact() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let site = ada
        .deployable(
            &server,
            "site",
            "static",
            &[("index.html", "<h1>Hello</h1>"), ("about/index.html", "<p>About</p>")],
            Value::Null,
        )
        .await;
    let queued = ada.deploy(&site).await;
    assert_eq!(
        (queued["status"].as_str(), queued["ref"].as_str()),
        (Some("queued"), Some("DEP-0001"))
    );
    assert_eq!(queued["trigger"], "api");
    let done = ada.finished(queued["id"].as_str().expect("id"), 60).await;
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["release"]["version"], "v1");
    assert_eq!(done["commitMessage"], "initial commit");
    assert_eq!(done["commitSha"].as_str().map(str::len), Some(40));
    let events: Vec<_> = done["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    for status in ["queued", "building", "deploying", "ready"] {
        assert!(events.iter().any(|e| e == status), "{status} in {events:?}");
    }
    let dir = server.artifact(done["releaseId"].as_str().expect("release"));
    assert_eq!(
        std::fs::read_to_string(dir.join("index.html")).expect("artifact"),
        "<h1>Hello</h1>"
    );
    assert!(dir.join("about/index.html").exists());
    // The ref works wherever the id does.
    let by_ref = ada
        .token
        .get(&format!("/tenants/{}/deployments/DEP-0001", ada.tenant_id))
        .await
        .expect("request");
    assert_eq!(by_ref.body["id"], done["id"]);
    let lines: Vec<String> = ada
        .log_lines(done["id"].as_str().expect("id"))
        .await
        .iter()
        .map(|l| l["line"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("Ready: release v1 is active")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn an_express_app_installs_with_npm_and_deploys() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada.deployable(&server, "api", "node", EXPRESS_APP, Value::Null).await;
    let dep = ada.deploy(&app).await;
    let done = ada.finished(dep["id"].as_str().expect("id"), 300).await;
    assert_eq!(done["status"], "ready", "{done}");
    let dir = server.artifact(done["releaseId"].as_str().expect("release"));
    assert!(
        dir.join("node_modules/express/package.json").exists(),
        "dependencies are in the artifact"
    );
    let lines = ada.log_lines(done["id"].as_str().expect("id")).await;
    assert!(
        lines.iter().any(|l| l["line"] == "$ npm install"),
        "the install command is logged"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["stream"] == "stdout" && l["line"].as_str().is_some_and(|t| t.contains("added")))
    );
}

#[tokio::test]
async fn a_vite_react_app_builds_with_npm_into_dist() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let files = vite_react_app_files();
    let app = ada.deployable(&server, "web", "react", &files, Value::Null).await;
    let dep = ada.deploy(&app).await;
    let done = ada.finished(dep["id"].as_str().expect("id"), 400).await;
    assert_eq!(done["status"], "ready", "{done}");
    let dist = server
        .artifact(done["releaseId"].as_str().expect("release"))
        .join("dist");
    let index = std::fs::read_to_string(dist.join("index.html")).expect("built index.html");
    assert!(index.contains("/assets/"), "vite rewrote the entry: {index}");
    assert!(std::fs::read_dir(dist.join("assets")).expect("assets").count() >= 1);
}

#[tokio::test]
async fn a_flask_app_installs_with_pip_into_a_venv_in_the_artifact() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let files = [
        ("requirements.txt", "flask==3.0.3\ngunicorn==23.0.0\n"),
        (
            "app.py",
            "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef index():\n    return 'ok'\n",
        ),
    ];
    let app = ada.deployable(&server, "flaskapp", "python", &files, Value::Null).await;
    let dep = ada.deploy(&app).await;
    let done = ada.finished(dep["id"].as_str().expect("id"), 300).await;
    assert_eq!(done["status"], "ready", "{done}");
    let dir = server.artifact(done["releaseId"].as_str().expect("release"));
    let site_packages = std::fs::read_dir(dir.join(".venv/lib"))
        .expect("venv lib")
        .flatten()
        .next()
        .expect("python dir")
        .path();
    assert!(
        site_packages.join("site-packages/flask").exists(),
        "flask is installed in the artifact's venv"
    );
    // The venv was made at the path the app has at run time too.
    let activate = std::fs::read_to_string(dir.join(".venv/bin/activate")).expect("activate script");
    assert!(activate.contains("/srv/app/.venv"), "venv path baked for /srv/app");
}
