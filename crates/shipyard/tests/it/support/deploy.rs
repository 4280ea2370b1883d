//! Deploying from tests: projects made from fixture repositories, waiting (bounded) for a
//! deployment to end, and a Server-Sent Events reader.

use super::git::make_repo;
use super::{Tenant, TestServer};
use serde_json::{Value, json};
use shipyard_client::Client;
use std::time::{Duration, Instant};

/// Config for a static project whose build runs `command` and serves `dist/`.
pub fn static_build(command: &str) -> Value {
    json!({ "build": { "buildCommand": command, "outputDirectory": "dist" } })
}

/// A project ready to deploy.
pub struct Deployable {
    /// `prj_…`
    pub project_id: String,
    /// Production `env_…`
    pub environment_id: String,
    /// The repository's working tree, for further commits.
    pub repo: std::path::PathBuf,
}

impl Tenant {
    /// Makes a repository with `files` and connects it; returns the connection id.
    pub async fn connect_repo(&self, server: &TestServer, name: &str, files: &[(&str, &str)]) -> String {
        let url = make_repo(&server.dir.path().join(name), files);
        let conn = self
            .post_ok(
                &format!("/tenants/{}/repository-connections", self.tenant_id),
                &json!({ "provider": "git", "url": url }),
            )
            .await;
        conn["id"].as_str().expect("id").to_owned()
    }

    /// Makes a repository with `files`, connects it and creates a project of `kind` from it.
    pub async fn deployable(
        &self,
        server: &TestServer,
        name: &str,
        kind: &str,
        files: &[(&str, &str)],
        config: Value,
    ) -> Deployable {
        let repo = server.dir.path().join("repos").join(name);
        let url = make_repo(&repo, files);
        let conn = self
            .post_ok(
                &format!("/tenants/{}/repository-connections", self.tenant_id),
                &json!({ "provider": "git", "url": url }),
            )
            .await;
        let mut body = json!({ "name": name, "type": kind, "repositoryConnectionId": conn["id"] });
        if !config.is_null() {
            body["config"] = config;
        }
        let project = self
            .post_ok(&format!("/tenants/{}/projects", self.tenant_id), &body)
            .await;
        Deployable {
            project_id: project["id"].as_str().expect("id").to_owned(),
            environment_id: project["environments"][0]["id"].as_str().expect("env").to_owned(),
            repo,
        }
    }

    /// A node project `name` whose server is `server_js` (run as `node server.js`, with the
    /// rest of `runtime`), deployed to ready; the project and its deployment.
    pub async fn node_app_ready(
        &self,
        server: &TestServer,
        name: &str,
        server_js: &str,
        mut runtime: Value,
    ) -> (Deployable, Value) {
        runtime["startCommand"] = json!("node server.js");
        let files = crate::support::fixtures::npm_app_serving(server_js);
        let app = self
            .deployable(server, name, "node", &files, json!({ "runtime": runtime }))
            .await;
        let done = self
            .finished(self.deploy(&app).await["id"].as_str().expect("id"), 240)
            .await;
        if done["status"] != "ready" {
            let log = self.log_lines(done["id"].as_str().unwrap_or_default()).await;
            let text: Vec<&str> = log.iter().filter_map(|l| l["line"].as_str()).collect();
            panic!("deployment not ready: {done}\nbuild log:\n{}", text.join("\n"));
        }
        (app, done)
    }

    /// A node project from `npm_app_files` (left-pad with its real lockfile).
    pub async fn npm_deployable(&self, server: &TestServer, name: &str) -> Deployable {
        self.deployable(server, name, "node", &super::fixtures::npm_app_files(), Value::Null)
            .await
    }

    /// Deletes a project, which must answer 204.
    pub async fn delete_project(&self, d: &Deployable) {
        let deleted = self
            .token
            .delete(&format!("/tenants/{}/projects/{}", self.tenant_id, d.project_id))
            .await
            .expect("delete");
        assert_eq!(deleted.status, 204, "{}", deleted.body);
    }

    /// Deletes environment `env` of `d` (204 expected).
    pub async fn delete_environment(&self, d: &Deployable, env: &str) {
        let path = format!(
            "/tenants/{}/projects/{}/environments/{env}",
            self.tenant_id, d.project_id
        );
        let deleted = self.token.delete(&path).await.expect("delete");
        assert_eq!(deleted.status, 204, "{}", deleted.body);
    }

    /// Triggers a deployment of production and returns its view.
    pub async fn deploy(&self, d: &Deployable) -> Value {
        self.deploy_env(d, &d.environment_id).await
    }

    /// Triggers a deployment of environment `env` and returns its view.
    pub async fn deploy_env(&self, d: &Deployable, env: &str) -> Value {
        self.post_ok(
            &format!(
                "/tenants/{}/projects/{}/environments/{env}/deployments",
                self.tenant_id, d.project_id
            ),
            &json!({}),
        )
        .await
    }

    /// Adds an environment on `main`; returns its id.
    pub async fn add_environment(&self, d: &Deployable, name: &str) -> String {
        let made = self
            .post_ok(
                &format!("/tenants/{}/projects/{}/environments", self.tenant_id, d.project_id),
                &json!({ "name": name, "branch": "main" }),
            )
            .await;
        made["id"].as_str().expect("env id").to_owned()
    }

    /// Polls a deployment until `done(status)` holds, at most `secs` seconds.
    pub async fn wait_for(&self, deployment: &str, secs: u64, done: impl Fn(&str) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let view = self
                .token
                .get(&format!("/tenants/{}/deployments/{deployment}", self.tenant_id))
                .await
                .expect("request")
                .body;
            if done(view["status"].as_str().unwrap_or_default()) {
                return view;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "deployment still {} after {secs} s: {view}",
                view["status"]
            );
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits for the deployment to end (ready, failed or canceled).
    pub async fn finished(&self, deployment: &str, secs: u64) -> Value {
        self.wait_for(deployment, secs, |s| matches!(s, "ready" | "failed" | "canceled"))
            .await
    }

    /// Every stored log line of a deployment, in order, read page by page (`limit` a page).
    pub async fn all_log_lines(&self, deployment: &str, limit: u32) -> Vec<Value> {
        let mut lines = Vec::new();
        let mut after = 0;
        loop {
            let page = self
                .token
                .get(&format!(
                    "/tenants/{}/deployments/{deployment}/logs?after={after}&limit={limit}",
                    self.tenant_id
                ))
                .await
                .expect("request")
                .ok()
                .expect("logs");
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                return lines;
            }
            after = page["lastSeq"].as_i64().expect("lastSeq");
            lines.extend(items);
        }
    }

    /// The first page of a deployment's stored log lines (up to 10 000), in order.
    pub async fn log_lines(&self, deployment: &str) -> Vec<Value> {
        let page = self
            .token
            .get(&format!(
                "/tenants/{}/deployments/{deployment}/logs?limit=10000",
                self.tenant_id
            ))
            .await
            .expect("request")
            .ok()
            .expect("logs");
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// A static project `name` whose build runs `command`, deployed to its end: the deployment
    /// and its build log as one text.
    pub async fn static_build_log(&self, server: &TestServer, name: &str, command: &str) -> (Value, String) {
        let app = self
            .deployable(server, name, "static", &[("index.html", "x")], static_build(command))
            .await;
        let done = self
            .finished(self.deploy(&app).await["id"].as_str().expect("id"), 120)
            .await;
        let lines = self.log_lines(done["id"].as_str().expect("id")).await;
        let text: Vec<&str> = lines.iter().filter_map(|l| l["line"].as_str()).collect();
        (done, text.join("\n"))
    }
}

/// One parsed SSE message.
#[derive(Debug, Clone)]
pub struct SseFrame {
    /// Its `id:`, if any.
    pub id: Option<String>,
    /// Its JSON data.
    pub data: Value,
}

/// Reads an SSE response frame by frame.
pub struct SseReader {
    response: reqwest::Response,
    buffer: String,
}

impl SseReader {
    /// Opens `path` with optional `Last-Event-ID`.
    pub async fn open(client: &Client, path: &str, last_event_id: Option<&str>) -> Self {
        let mut request = client.request(reqwest::Method::GET, path);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("stream request");
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/event-stream")),
            "an event stream"
        );
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next frame with data (comments skipped); None at the end of the stream.
    pub async fn next(&mut self) -> Option<SseFrame> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let raw: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = String::new();
                for line in raw.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                return Some(SseFrame {
                    id,
                    data: serde_json::from_str(&data).expect("JSON frame"),
                });
            }
            let chunk = tokio::time::timeout(Duration::from_secs(60), self.response.chunk())
                .await
                .expect("stream stalled");
            match chunk.expect("stream chunk") {
                Some(bytes) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                None => return None,
            }
        }
    }
}
