//! Secrets over HTTP: scopes, precedence inputs, versions, the 409/422/403 cases, and a
//! sentinel value that must appear nowhere but where it was sent.

use crate::support::{TestServer, assert_error, files_under};
use serde_json::{Value, json};

#[tokio::test]
async fn secrets_are_scoped_versioned_and_validated() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobco").await;
    let p = ada.project_fixture(&server, "web").await;
    let theirs = bob.project_fixture(&server, "bobweb").await;
    let path = format!("/tenants/{}/secrets", ada.tenant_id);
    let post = |body: Value| {
        let (client, path) = (ada.token.clone(), path.clone());
        async move { client.post(&path, &body).await.expect("request") }
    };

    let ws = post(json!({ "name": "DATABASE_URL", "value": "postgres://ws", "scope": "workspace" })).await;
    assert_eq!(ws.status, 201, "{}", ws.body);
    assert_eq!(
        (ws.body["scope"].as_str(), ws.body["version"].as_i64()),
        (Some("workspace"), Some(1))
    );
    assert!(
        ws.body.get("value").is_none(),
        "no response carries a value: {}",
        ws.body
    );
    let proj = post(
        json!({ "name": "DATABASE_URL", "value": "postgres://project", "scope": "project", "projectId": p.project_id }),
    )
    .await;
    assert_eq!(proj.status, 201, "same name, narrower scope: {}", proj.body);
    let env = post(json!({ "name": "DATABASE_URL", "value": "postgres://env", "scope": "environment", "environmentId": p.environment_id })).await;
    assert_eq!(env.status, 201, "{}", env.body);
    assert_eq!(
        env.body["projectId"],
        p.project_id.as_str(),
        "an environment secret records its project"
    );

    assert_error(
        &post(json!({ "name": "DATABASE_URL", "value": "again", "scope": "workspace" })).await,
        409,
    );
    for (body, status, field) in [
        (
            json!({ "name": "PORT", "value": "1", "scope": "workspace" }),
            400,
            "reserved",
        ),
        (
            json!({ "name": "SHIPYARD_KEY", "value": "1", "scope": "workspace" }),
            400,
            "reserved",
        ),
        (
            json!({ "name": "1BAD", "value": "1", "scope": "workspace" }),
            400,
            "name",
        ),
        (json!({ "name": "OK", "value": "", "scope": "workspace" }), 400, "value"),
        (json!({ "name": "OK", "value": "x", "scope": "galaxy" }), 400, "scope"),
        (
            json!({ "name": "OK", "value": "x", "scope": "project" }),
            400,
            "projectId",
        ),
        (
            json!({ "name": "OK", "value": "x", "scope": "workspace", "projectId": p.project_id }),
            400,
            "projectId",
        ),
        (
            json!({ "name": "OK", "value": "x", "scope": "environment" }),
            400,
            "environmentId",
        ),
        (
            json!({ "name": "OK", "value": "x", "scope": "project", "projectId": theirs.project_id }),
            422,
            "projectId",
        ),
        (
            json!({ "name": "OK", "value": "x", "scope": "environment", "environmentId": theirs.environment_id }),
            422,
            "environmentId",
        ),
        (
            json!({ "name": "OK", "value": "x", "scope": "environment", "environmentId": p.environment_id, "projectId": theirs.project_id }),
            422,
            "projectId",
        ),
    ] {
        let response = post(body.clone()).await;
        assert_error(&response, status);
        assert!(
            response.body["message"].as_str().is_some_and(|m| m.contains(field)),
            "{body}: {}",
            response.body
        );
    }

    let id = ws.body["id"].as_str().expect("id");
    let patched = ada
        .token
        .patch(&format!("{path}/{id}"), &json!({ "value": "postgres://ws-v2" }))
        .await
        .expect("request");
    assert_eq!(patched.body["version"], 2);
    assert_error(
        &ada.token
            .patch(&format!("{path}/{id}"), &json!({ "value": "x", "name": "RENAME" }))
            .await
            .expect("request"),
        400,
    );

    let all = ada.token.get(&path).await.expect("request").ok().expect("list");
    assert_eq!(all["total"], 4, "three DATABASE_URLs and the fixture's API_KEY");
    let only_env = ada
        .token
        .get(&format!("{path}?scope=environment&environmentId={}", p.environment_id))
        .await
        .expect("request");
    assert_eq!(only_env.body["total"], 2);
    let only_project = ada
        .token
        .get(&format!("{path}?scope=project&projectId={}", p.project_id))
        .await
        .expect("request");
    assert_eq!(only_project.body["items"][0]["id"], proj.body["id"]);
    assert_error(
        &ada.token.get(&format!("{path}?scope=nope")).await.expect("request"),
        400,
    );

    // A viewer sees names and versions, and every write is refused.
    let viewer = server.tenant("viewer@example.com", "Viewer's").await;
    ada.post_ok(
        &format!("/tenants/{}/members", ada.tenant_id),
        &json!({ "email": viewer.email, "role": "viewer" }),
    )
    .await;
    let seen = viewer
        .token
        .get(&path)
        .await
        .expect("request")
        .ok()
        .expect("viewer lists");
    assert_eq!(seen["total"], 4);
    assert_error(
        &viewer
            .token
            .post(&path, &json!({ "name": "X_Y", "value": "v", "scope": "workspace" }))
            .await
            .expect("request"),
        403,
    );
    assert_error(
        &viewer
            .token
            .patch(&format!("{path}/{id}"), &json!({ "value": "v" }))
            .await
            .expect("request"),
        403,
    );
    assert_error(
        &viewer.token.delete(&format!("{path}/{id}")).await.expect("request"),
        403,
    );

    assert_eq!(
        ada.token.delete(&format!("{path}/{id}")).await.expect("request").status,
        204
    );
    assert_error(&ada.token.delete(&format!("{path}/{id}")).await.expect("request"), 404);
    let again = post(json!({ "name": "DATABASE_URL", "value": "postgres://ws-new", "scope": "workspace" })).await;
    assert_eq!(again.status, 201, "the name is free once deleted");
}

#[tokio::test]
async fn a_planted_secret_appears_nowhere() {
    const SENTINEL: &str = "sentinel-9b1f4e7a2c6d8035";
    const SENTINEL_V2: &str = "sentinel-v2-51d0c3b8e7a49f26";
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let p = ada.project_fixture(&server, "web").await;
    let path = format!("/tenants/{}/secrets", ada.tenant_id);
    let mut bodies = Vec::new();
    let made = ada
        .token
        .post(
            &path,
            &json!({ "name": "STRIPE_KEY", "value": SENTINEL, "scope": "project", "projectId": p.project_id }),
        )
        .await
        .expect("request");
    bodies.push(made.body.clone());
    let id = made.body["id"].as_str().expect("id").to_owned();
    bodies.push(
        ada.token
            .patch(&format!("{path}/{id}"), &json!({ "value": SENTINEL_V2 }))
            .await
            .expect("request")
            .body,
    );
    bodies.push(ada.token.get(&path).await.expect("request").body);
    bodies.push(
        ada.token
            .get(&format!("/tenants/{}/projects/{}", ada.tenant_id, p.project_id))
            .await
            .expect("request")
            .body,
    );
    bodies.push(server.openapi().await);
    // A duplicate and a malformed request echo nothing of the value either.
    bodies.push(
        ada.token
            .post(
                &path,
                &json!({ "name": "STRIPE_KEY", "value": SENTINEL, "scope": "project", "projectId": p.project_id }),
            )
            .await
            .expect("request")
            .body,
    );
    bodies.push(
        ada.token
            .post(
                &path,
                &json!({ "name": "BAD NAME", "value": SENTINEL, "scope": "workspace" }),
            )
            .await
            .expect("request")
            .body,
    );

    for body in &bodies {
        let text = body.to_string();
        assert!(
            !text.contains(SENTINEL) && !text.contains(SENTINEL_V2),
            "value in a response: {text}"
        );
    }
    let log = server.stderr() + &server.stdout();
    assert!(
        !log.contains(SENTINEL) && !log.contains(SENTINEL_V2),
        "value in the server log"
    );
    let files = files_under(&server.data_dir());
    assert!(
        files.iter().any(|f| f.ends_with("shipyard.db-wal")),
        "the WAL is among the files checked"
    );
    for file in files {
        // A managed database's server makes and removes files as it runs, and listens on a
        // socket there: what is gone or is not a file holds nothing.
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(_) if std::fs::metadata(&file).is_ok_and(|m| !m.is_file()) => continue,
            Err(e) => panic!("read {}: {e}", file.display()),
        };
        for needle in [SENTINEL, SENTINEL_V2] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in clear in {}",
                file.display()
            );
        }
    }
}
