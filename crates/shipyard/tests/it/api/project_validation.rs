//! Project creation refuses every wrong field with its name, and writes nothing when it does.

use crate::support::fixtures::vite_react_files;
use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};

#[tokio::test]
async fn every_wrong_field_is_named() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let bob = server.tenant("bob@example.com", "Bobco").await;
    let conn = ada.connect_repo(&server, "web", &vite_react_files()).await;
    let bobs_conn = bob.connect_repo(&server, "bobweb", &vite_react_files()).await;
    let path = format!("/tenants/{}/projects", ada.tenant_id);
    let base = json!({ "name": "Web", "type": "react", "repositoryConnectionId": conn });
    let with = |patch: Value| {
        let mut body = base.clone();
        for (k, v) in patch.as_object().expect("object") {
            body[k] = v.clone();
        }
        body
    };
    for (body, status, field) in [
        (with(json!({ "runsServer": true })), 422, "runsServer"),
        (
            with(json!({ "repositoryConnectionId": bobs_conn })),
            422,
            "repositoryConnectionId",
        ),
        (
            with(json!({ "repositoryConnectionId": "rc_0000" })),
            422,
            "repositoryConnectionId",
        ),
        (with(json!({ "productionBranch": "release" })), 422, "productionBranch"),
        (with(json!({ "rootDirectory": "/abs" })), 400, "rootDirectory"),
        (with(json!({ "rootDirectory": "missing" })), 422, "rootDirectory"),
        (with(json!({ "type": "java" })), 400, "type"),
        (with(json!({ "name": "" })), 400, "name"),
        (with(json!({ "name": "x".repeat(60) })), 422, "DNS"),
        (
            with(json!({ "config": { "build": { "installCommand": "  " } } })),
            400,
            "installCommand",
        ),
        (
            with(json!({ "config": { "build": { "packageManager": "pip" } } })),
            422,
            "packageManager",
        ),
        (
            with(json!({ "config": { "runtime": { "runtimeType": "node" } } })),
            422,
            "runtimeType",
        ),
        (
            with(json!({ "config": { "runtime": { "startCommand": "node x.js" } } })),
            422,
            "startCommand",
        ),
        (with(json!({ "config": { "runtime": { "port": 80 } } })), 400, "port"),
        (with(json!({ "config": { "runtime": { "port": 70000 } } })), 400, "port"),
        (
            with(json!({ "config": { "runtime": { "instances": 0 } } })),
            400,
            "instances",
        ),
        (
            with(json!({ "config": { "runtime": { "limits": { "memoryMb": 1 } } } })),
            400,
            "memoryMb",
        ),
        (
            with(json!({ "config": { "runtime": { "healthCheckPath": "health" } } })),
            400,
            "healthCheckPath",
        ),
        (with(json!({ "config": { "deploy": {} } })), 400, "deploy"),
    ] {
        let response = ada.token.post(&path, &body).await.expect("request");
        assert_error(&response, status);
        let message = response.body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(field),
            "{body}: message should name `{field}`: {message}"
        );
    }
    ada.post_ok(&path, &base).await;
    let dup = ada
        .token
        .post(&path, &with(json!({ "name": "WEB" })))
        .await
        .expect("request");
    assert_error(&dup, 409);
    assert_eq!(
        ada.token.get(&path).await.expect("request").body["total"],
        1,
        "nothing half-written"
    );
}
