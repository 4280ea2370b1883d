//! Projects and environments from real repositories: detection fills the configuration,
//! explicit configuration wins, and every field a user can get wrong answers clearly.

use crate::support::fixtures::EXPRESS_REPO;
use crate::support::fixtures::vite_react_files;
use crate::support::git::{branch_with, make_repo};
use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};

#[tokio::test]
async fn name_type_and_repository_alone_give_a_deployable_configuration() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let conn = ada.connect_repo(&server, "web", &vite_react_files()).await;
    let project = ada
        .post_ok(
            &format!("/tenants/{}/projects", ada.tenant_id),
            &json!({ "name": "Web", "type": "react", "repositoryConnectionId": conn }),
        )
        .await;
    assert!(project["id"].as_str().is_some_and(|id| id.starts_with("prj_")));
    assert_eq!(
        (project["slug"].as_str(), project["status"].as_str()),
        (Some("web"), Some("active"))
    );
    assert_eq!(
        (project["runsServer"].as_bool(), project["productionBranch"].as_str()),
        (Some(false), Some("main"))
    );
    let build = &project["config"]["build"];
    assert_eq!(build["installCommand"], "npm ci");
    assert_eq!(build["buildCommand"], "npm run build");
    assert_eq!(build["outputDirectory"], "dist");
    assert_eq!(build["packageManager"], "npm");
    assert_eq!(project["config"]["runtime"]["runtimeType"], "static");
    assert_eq!(project["detection"]["framework"], "Vite + React");
    assert!(project["detection"]["confidence"].as_f64().is_some_and(|c| c >= 0.85));
    let envs = project["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1);
    assert_eq!(
        (envs[0]["slug"].as_str(), envs[0]["branch"].as_str()),
        (Some("production"), Some("main"))
    );
    let port = server.base.rsplit(':').next().expect("port");
    assert_eq!(envs[0]["url"], format!("http://web-production.acme.localhost:{port}"));

    let fetched = ada
        .token
        .get(&format!(
            "/tenants/{}/projects/{}",
            ada.tenant_id,
            project["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(
        fetched.expect("request").body,
        project,
        "detail shows what creation answered"
    );
}

#[tokio::test]
async fn explicit_configuration_wins_over_detection() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let conn = ada.connect_repo(&server, "api", EXPRESS_REPO).await;
    let project = ada
        .post_ok(
            &format!("/tenants/{}/projects", ada.tenant_id),
            &json!({
                "name": "API", "type": "node", "repositoryConnectionId": conn, "runsServer": true,
                "config": {
                    "build": { "installCommand": "npm install --omit=dev", "nodeVersion": "20" },
                    "runtime": { "port": 8080, "instances": 2, "healthCheckPath": "/healthz", "limits": { "memoryMb": 256 } }
                }
            }),
        )
        .await;
    let (build, runtime) = (&project["config"]["build"], &project["config"]["runtime"]);
    assert_eq!(build["installCommand"], "npm install --omit=dev", "explicit wins");
    assert_eq!(build["nodeVersion"], "20");
    assert_eq!(runtime["startCommand"], "npm run start", "detection fills the rest");
    assert_eq!(
        (runtime["port"].as_u64(), runtime["instances"].as_u64()),
        (Some(8080), Some(2))
    );
    assert_eq!(
        (
            runtime["limits"]["memoryMb"].as_u64(),
            runtime["limits"]["cpuMillis"].as_u64()
        ),
        (Some(256), Some(1000))
    );
    assert_eq!(runtime["runtimeType"], "node");
    assert_eq!(project["detection"]["framework"], "Express");
}

#[tokio::test]
async fn detect_reads_branches_and_root_directories() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let mut files: Vec<(String, String)> = vec![(
        "package.json".into(),
        r#"{"name":"mono","private":true,"workspaces":["apps/*"]}"#.into(),
    )];
    files.extend(
        vite_react_files()
            .into_iter()
            .map(|(p, t)| (format!("apps/web/{p}"), t.to_owned())),
    );
    files.extend(
        EXPRESS_REPO
            .iter()
            .map(|(p, t)| (format!("apps/api/{p}"), (*t).to_owned())),
    );
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let repo = server.dir.path().join("mono");
    let url = make_repo(&repo, &borrowed);
    branch_with(
        &repo,
        "flask",
        &[("requirements.txt", "flask\n"), ("app.py", "app = Flask(__name__)\n")],
    );
    let conn = ada
        .post_ok(
            &format!("/tenants/{}/repository-connections", ada.tenant_id),
            &json!({ "provider": "git", "url": url }),
        )
        .await;
    let detect = |body: Value| {
        let (client, path) = (ada.token.clone(), format!("/tenants/{}/projects/detect", ada.tenant_id));
        async move { client.post(&path, &body).await.expect("request") }
    };
    let id = conn["id"].clone();

    let root = detect(json!({ "repositoryConnectionId": id })).await;
    assert_eq!(root.status, 200, "{}", root.body);
    assert_eq!(root.body["type"], Value::Null);
    assert_eq!(root.body["confidence"], 0.0);
    let evidence = root.body["evidence"].to_string();
    assert!(
        evidence.contains("apps/web (react: Vite + React)") && evidence.contains("apps/api (node: Express)"),
        "{evidence}"
    );
    assert_eq!(root.body["commitSha"].as_str().map(str::len), Some(40));

    let web = detect(json!({ "repositoryConnectionId": id, "rootDirectory": "./apps/web/" })).await;
    assert_eq!(
        (web.body["type"].as_str(), web.body["outputDirectory"].as_str()),
        (Some("react"), Some("dist"))
    );
    let api = detect(json!({ "repositoryConnectionId": id, "rootDirectory": "apps/api" })).await;
    assert_eq!(
        (api.body["type"].as_str(), api.body["startCommand"].as_str()),
        (Some("node"), Some("npm run start"))
    );
    let flask = detect(json!({ "repositoryConnectionId": id, "branch": "flask" })).await;
    assert_eq!(flask.body["branch"], "flask");
    // The root package.json only declares workspaces, so the Flask app on this branch decides.
    assert_eq!(
        (flask.body["type"].as_str(), flask.body["framework"].as_str()),
        (Some("python"), Some("Flask"))
    );

    assert_error(
        &detect(json!({ "repositoryConnectionId": id, "branch": "nope" })).await,
        422,
    );
    assert_error(
        &detect(json!({ "repositoryConnectionId": id, "rootDirectory": "apps/none" })).await,
        422,
    );
    assert_error(
        &detect(json!({ "repositoryConnectionId": id, "rootDirectory": "../etc" })).await,
        400,
    );
    assert_error(&detect(json!({ "repositoryConnectionId": "rc_nope" })).await, 422);
    assert_error(
        &detect(json!({ "repositoryConnectionId": id, "branch": "a..b" })).await,
        400,
    );

    // A project in the monorepo, with its root directory.
    let project = ada
        .post_ok(
            &format!("/tenants/{}/projects", ada.tenant_id),
            &json!({ "name": "Mono API", "type": "node", "repositoryConnectionId": id, "rootDirectory": "apps/api" }),
        )
        .await;
    assert_eq!(project["rootDirectory"], "apps/api");
    assert_eq!(project["config"]["build"]["rootDirectory"], "apps/api");
    assert_eq!(project["config"]["runtime"]["startCommand"], "npm run start");
}

#[tokio::test]
async fn projects_are_listed_filtered_updated_and_deleted() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let conn = ada.connect_repo(&server, "web", &vite_react_files()).await;
    let path = format!("/tenants/{}/projects", ada.tenant_id);
    let mut ids = Vec::new();
    for name in ["Marketing Site", "Docs", "Shop Front"] {
        let made = ada
            .post_ok(
                &path,
                &json!({ "name": name, "type": "react", "repositoryConnectionId": conn }),
            )
            .await;
        ids.push(made["id"].as_str().expect("id").to_owned());
    }
    let list = |query: &str| {
        let (client, url) = (ada.token.clone(), format!("{path}{query}"));
        async move { client.get(&url).await.expect("request") }
    };
    assert_eq!(list("").await.body["total"], 3);
    let found = list("?search=SITE").await.body;
    assert_eq!(
        (found["total"].as_i64(), found["items"][0]["name"].as_str()),
        (Some(1), Some("Marketing Site"))
    );
    let page = list("?page=2&perPage=2").await.body;
    assert_eq!(
        (page["items"].as_array().map(Vec::len), page["page"].as_u64()),
        (Some(1), Some(2))
    );
    assert_error(&list("?status=sleeping").await, 400);
    assert_error(&list("?perPage=500").await, 400);

    let docs = format!("{path}/{}", ids[1]);
    let patched = ada
        .token
        .patch(
            &docs,
            &json!({ "status": "paused", "name": "Docs v2", "description": "Manuals" }),
        )
        .await;
    let patched = patched.expect("request").ok().expect("patched");
    assert_eq!(
        (
            patched["status"].as_str(),
            patched["name"].as_str(),
            patched["slug"].as_str()
        ),
        (Some("paused"), Some("Docs v2"), Some("docs"))
    );
    assert_eq!(list("?status=paused").await.body["total"], 1);
    assert_error(
        &ada.token
            .patch(&docs, &json!({ "slug": "new" }))
            .await
            .expect("request"),
        400,
    );
    assert_error(
        &ada.token
            .patch(&docs, &json!({ "status": "gone" }))
            .await
            .expect("request"),
        400,
    );

    let build = ada
        .token
        .patch(
            &format!("{docs}/build-config"),
            &json!({ "buildCommand": "npm run docs", "nodeVersion": null }),
        )
        .await;
    let build = build.expect("request").ok().expect("build patched");
    assert_eq!(build["config"]["build"]["buildCommand"], "npm run docs");
    assert_eq!(
        build["config"]["build"]["installCommand"], "npm ci",
        "untouched fields stay"
    );
    let cleared = ada
        .token
        .patch(&format!("{docs}/build-config"), &json!({ "buildCommand": null }))
        .await;
    assert_eq!(
        cleared.expect("request").body["config"]["build"]["buildCommand"],
        Value::Null
    );
    let runtime = ada
        .token
        .patch(
            &format!("{docs}/runtime-config"),
            &json!({ "instances": 3, "limits": { "cpuMillis": 500 } }),
        )
        .await;
    let runtime = runtime.expect("request").ok().expect("runtime patched");
    assert_eq!(
        (
            runtime["config"]["runtime"]["instances"].as_u64(),
            runtime["config"]["runtime"]["limits"]["cpuMillis"].as_u64()
        ),
        (Some(3), Some(500))
    );
    let wrong = ada
        .token
        .patch(&format!("{docs}/runtime-config"), &json!({ "runtimeType": "python" }))
        .await
        .expect("request");
    assert_error(&wrong, 422);

    // The connection is in use until its projects are gone.
    let conn_path = format!("/tenants/{}/repository-connections/{conn}", ada.tenant_id);
    assert_error(&ada.token.delete(&conn_path).await.expect("request"), 409);
    for id in &ids {
        assert_eq!(
            ada.token.delete(&format!("{path}/{id}")).await.expect("request").status,
            204
        );
    }
    assert_error(&ada.token.get(&docs).await.expect("request"), 404);
    assert_eq!(ada.token.delete(&conn_path).await.expect("request").status, 204);
}
