//! Users with a workspace, made through the API, and the fixtures a workspace holds.

use super::{PASSWORD, TestServer, fixtures, git};
use serde_json::{Value, json};
use shipyard_client::Client;

/// A user with a workspace, seen from their session and from an API token.
#[derive(Clone)]
pub struct Tenant {
    /// Session client.
    pub session: Client,
    /// Token client.
    pub token: Client,
    /// `ten_…` of their first workspace.
    pub tenant_id: String,
    /// `usr_…`
    pub user_id: String,
    /// Login email.
    pub email: String,
    /// The token's value.
    pub token_secret: String,
}

/// A connection, a project and a second environment in one workspace.
pub struct ProjectFixture {
    /// `rc_…`
    pub connection_id: String,
    /// `prj_…`
    pub project_id: String,
    /// `env_…` of a non-production environment (deletable).
    pub environment_id: String,
    /// `sec_…` of a secret of that environment.
    pub secret_id: String,
    /// `dep_…` of a deployment of that environment.
    pub deployment_id: String,
    /// `rel_…` the deployment made.
    pub release_id: String,
    /// `db_…` of a database of the workspace.
    pub database_id: String,
    /// `dom_…` of a custom domain of the project (pending).
    pub domain_id: String,
    /// That domain's hostname.
    pub hostname: String,
}

impl Tenant {
    /// The same user against another server process (after a restart on the same data).
    pub fn clone_with_base(&self, server: &TestServer) -> Tenant {
        Tenant {
            session: server.client(),
            token: server.client().with_token(&self.token_secret),
            ..self.clone()
        }
    }

    /// Path-parameter values naming this user's objects, for the route matrices.
    pub fn fixtures(&self, token_id: String, p: &ProjectFixture) -> std::collections::HashMap<&'static str, String> {
        std::collections::HashMap::from([
            ("tenantId", self.tenant_id.clone()),
            ("userId", self.user_id.clone()),
            ("tokenId", token_id),
            ("connectionId", p.connection_id.clone()),
            ("projectId", p.project_id.clone()),
            ("environmentId", p.environment_id.clone()),
            ("secretId", p.secret_id.clone()),
            ("deploymentId", p.deployment_id.clone()),
            ("releaseId", p.release_id.clone()),
            ("databaseId", p.database_id.clone()),
            ("domainId", p.domain_id.clone()),
            ("hostname", p.hostname.clone()),
        ])
    }

    /// Ids of every kind of object of this user's workspace (a project `name` with all it holds,
    /// a run, a backup and a restore, the first token), for matrices over every route.
    pub async fn every_fixture(
        &self,
        server: &TestServer,
        name: &str,
    ) -> std::collections::HashMap<&'static str, String> {
        let tokens = self
            .session
            .get("/account/api-tokens")
            .await
            .expect("request")
            .ok()
            .expect("tokens");
        let token_id = tokens["items"][0]["id"].as_str().expect("token id").to_owned();
        let mut fixtures = self.fixtures(token_id, &self.project_fixture(server, name).await);
        fixtures.insert("runId", self.run_fixture(server).await);
        let (backup_id, restore_id) = self.backup_fixture(&fixtures["databaseId"]).await;
        fixtures.insert("backupId", backup_id);
        fixtures.insert("restoreId", restore_id);
        fixtures
    }

    /// Connects a fresh local repository (a Vite app) and makes a project with a staging
    /// environment from it.
    pub async fn project_fixture(&self, server: &TestServer, name: &str) -> ProjectFixture {
        let repo = server.dir.path().join("repos").join(name);
        let url = git::make_repo(&repo, &fixtures::vite_react_files());
        git::branch_with(&repo, "dev", &[("CHANGELOG.md", "dev work")]);
        let conn = self
            .post_ok(
                &format!("/tenants/{}/repository-connections", self.tenant_id),
                &json!({ "provider": "git", "url": url }),
            )
            .await;
        let project = self
            .post_ok(
                &format!("/tenants/{}/projects", self.tenant_id),
                &json!({ "name": name, "type": "react", "repositoryConnectionId": conn["id"],
                    // No install or build: fixture deployments finish in a moment, offline.
                    "config": { "build": { "installCommand": null, "buildCommand": null, "outputDirectory": "." } } }),
            )
            .await;
        let env = self
            .post_ok(
                &format!(
                    "/tenants/{}/projects/{}/environments",
                    self.tenant_id,
                    project["id"].as_str().expect("id")
                ),
                &json!({ "name": "Staging", "branch": "dev" }),
            )
            .await;
        let secret = self
            .post_ok(
                &format!("/tenants/{}/secrets", self.tenant_id),
                &json!({ "name": "API_KEY", "value": "fixture-secret-value", "scope": "environment", "environmentId": env["id"] }),
            )
            .await;
        let deployment = self
            .post_ok(
                &format!(
                    "/tenants/{}/projects/{}/environments/{}/deployments",
                    self.tenant_id,
                    project["id"].as_str().expect("id"),
                    env["id"].as_str().expect("id")
                ),
                &json!({}),
            )
            .await;
        let database = self
            .post_ok(
                &format!("/tenants/{}/databases", self.tenant_id),
                &json!({ "name": format!("{name}-db"), "engine": "postgres" }),
            )
            .await;
        let domain = self
            .post_ok(
                &format!(
                    "/tenants/{}/projects/{}/domains",
                    self.tenant_id,
                    project["id"].as_str().expect("id")
                ),
                &json!({ "hostname": format!("{name}.example.com") }),
            )
            .await;
        // Settle the build, so tests that scan the data directory see no workspace vanish.
        let done = self.finished(deployment["id"].as_str().expect("id"), 60).await;
        let id = |v: &Value| v["id"].as_str().expect("id").to_owned();
        let release_id = done["releaseId"]
            .as_str()
            .unwrap_or_else(|| panic!("the fixture deployment made a release: {done}"))
            .to_owned();
        ProjectFixture {
            connection_id: id(&conn),
            project_id: id(&project),
            environment_id: id(&env),
            secret_id: id(&secret),
            deployment_id: id(&deployment),
            release_id,
            database_id: id(&database),
            domain_id: id(&domain),
            hostname: domain["hostname"].as_str().expect("hostname").to_owned(),
        }
    }

    /// A one-off command that ran to its end (`run_…`), in a node app deployed for it: the
    /// matrices' `runId`.
    pub async fn run_fixture(&self, server: &TestServer) -> String {
        let server_js = "require('http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);";
        let (app, _) = self.node_app_ready(server, "runner", server_js, json!({})).await;
        let run = self
            .post_ok(
                &format!(
                    "/tenants/{}/projects/{}/environments/{}/runs",
                    self.tenant_id, app.project_id, app.environment_id
                ),
                &json!({ "command": "echo fixture" }),
            )
            .await;
        let id = run["id"].as_str().expect("run id").to_owned();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let view = self
                .token
                .get(&format!("/tenants/{}/runs/{id}", self.tenant_id))
                .await
                .expect("run")
                .body;
            if view["status"] != "running" {
                assert_eq!(view["exitCode"], 0, "{view}");
                return id;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the fixture run never ended: {view}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// Signs up `email` (the server must allow signup) and adds them to this workspace as a
    /// viewer; their tenant (whose own workspace is `Own`).
    pub async fn add_viewer(&self, server: &TestServer, email: &str) -> Tenant {
        let viewer = server.tenant(email, "Own").await;
        let added = self
            .token
            .post(
                &format!("/tenants/{}/members", self.tenant_id),
                &json!({ "email": viewer.email, "role": "viewer" }),
            )
            .await
            .expect("request");
        assert_eq!(added.status, 201, "{}", added.body);
        viewer
    }

    /// POSTs with the token and expects 201.
    pub async fn post_ok(&self, path: &str, body: &Value) -> Value {
        let response = self.token.post(path, body).await.expect("request");
        assert_eq!(response.status, 201, "POST {path}: {}", response.body);
        response.body
    }
}

impl TestServer {
    /// Signs up `email` with a workspace and makes them a token.
    pub async fn tenant(&self, email: &str, workspace: &str) -> Tenant {
        let (session, me) = self.signup(email, workspace).await;
        let token = session.create_token("tests").await.expect("token");
        Tenant {
            token: session.with_token(&token),
            token_secret: token,
            session,
            tenant_id: me.memberships[0].tenant_id.clone(),
            user_id: me.user.id.clone(),
            email: email.to_owned(),
        }
    }

    /// Makes a user through `/admin/users` (as `admin`) and logs them in.
    pub async fn admin_created_user(&self, admin: &Client, email: &str) -> (Client, String) {
        let made = admin
            .post("/admin/users", &json!({ "email": email, "password": PASSWORD }))
            .await
            .expect("request")
            .ok()
            .expect("admin creates user");
        let session = self.client().login(email, PASSWORD).await.expect("login");
        (session, made["id"].as_str().expect("id").to_owned())
    }
}
