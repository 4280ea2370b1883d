//! Every wrong request to make a database gets a sentence in the error shape: the engine and
//! versions this host offers, the limits' ranges, a taken name, a viewer's reach.

use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};

#[tokio::test]
async fn wrong_requests_are_refused_with_what_this_host_offers() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/tenants/{}/databases", ada.tenant_id);
    let refused = |body: Value, status: u16, says: &'static str| {
        let (ada, path) = (ada.clone(), path.clone());
        async move {
            let response = ada.token.post(&path, &body).await.expect("request");
            assert_error(&response, status);
            let message = response.body["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.contains(says), "{body}: {message}");
        }
    };
    refused(
        json!({ "name": "a", "engine": "mysql" }),
        422,
        "engine `mysql` is not offered",
    )
    .await;
    refused(
        json!({ "name": "a", "engine": "postgres", "version": "9" }),
        422,
        "offers 15",
    )
    .await;
    refused(json!({ "name": " ", "engine": "postgres" }), 400, "field `name`").await;
    refused(
        json!({ "name": "a", "engine": "postgres", "limits": { "memoryMb": 8 } }),
        400,
        "limits.memoryMb",
    )
    .await;
    refused(
        json!({ "name": "a", "engine": "postgres", "limits": { "diskMb": 2_000_000 } }),
        400,
        "limits.diskMb",
    )
    .await;
    refused(json!({ "name": "a", "engine": "postgres", "size": 1 }), 400, "size").await;

    let made = ada
        .create_database(&json!({ "name": "orders", "engine": "postgres" }))
        .await;
    refused(json!({ "name": "orders", "engine": "postgres" }), 409, "already exists").await;

    // Databases count toward the workspace's memory and storage limits (ada, the first user,
    // is the platform's admin).
    let limits = |body: Value| {
        let (ada, path) = (ada.clone(), format!("/admin/tenants/{}", ada.tenant_id));
        async move {
            let response = ada.session.patch(&path, &body).await.expect("request");
            assert_eq!(response.status, 200, "{}", response.body);
        }
    };
    limits(json!({ "memoryMbLimit": 300 })).await;
    refused(
        json!({ "name": "b", "engine": "postgres", "limits": { "memoryMb": 64 } }),
        422,
        "20 MiB over its memoryMbLimit of 300 MiB",
    )
    .await;
    limits(json!({ "memoryMbLimit": 400, "storageGbLimit": 1 })).await;
    refused(
        json!({ "name": "b", "engine": "postgres", "limits": { "memoryMb": 64, "diskMb": 64 } }),
        422,
        "64 MiB over its storageGbLimit of 1 GiB",
    )
    .await;
    limits(json!({ "maxDatabases": 1 })).await;
    refused(
        json!({ "name": "b", "engine": "postgres" }),
        422,
        "holds 1 databases, its most (1)",
    )
    .await;
    limits(json!({ "storageGbLimit": 2, "maxDatabases": 5 })).await;
    let fits = ada
        .create_database(&json!({ "name": "b", "engine": "postgres", "limits": { "memoryMb": 64, "diskMb": 64 } }))
        .await;
    assert_eq!(
        fits["status"], "provisioning",
        "positive control: within both limits: {fits}"
    );

    // A viewer reads the database but not its password, and changes nothing.
    let viewer = server.tenant("viewer@example.com", "Own").await;
    let added = ada
        .token
        .post(
            &format!("/tenants/{}/members", ada.tenant_id),
            &json!({ "email": viewer.email, "role": "viewer" }),
        )
        .await
        .expect("request");
    assert_eq!(added.status, 201, "{}", added.body);
    let id = made["id"].as_str().expect("id");
    let own = format!("{path}/{id}");
    assert_eq!(viewer.token.get(&own).await.expect("request").status, 200);
    assert_error(
        &viewer.token.get(&format!("{own}/connection")).await.expect("request"),
        403,
    );
    assert_error(
        &viewer
            .token
            .post(&path, &json!({ "name": "v", "engine": "postgres" }))
            .await
            .expect("request"),
        403,
    );
    assert_error(&viewer.token.delete(&own).await.expect("request"), 403);
    let settled = ada.database_settled(id, 120).await;
    assert_eq!(settled["status"], "running", "{settled}");
}

#[tokio::test]
async fn a_host_without_server_binaries_names_the_package() {
    let empty = tempfile::tempdir().expect("tempdir");
    let root = empty.path().to_str().expect("utf-8").to_owned();
    let server = TestServer::in_process(&["--postgres-root", &root]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let response = ada
        .token
        .post(
            &format!("/tenants/{}/databases", ada.tenant_id),
            &json!({ "name": "a", "engine": "postgres" }),
        )
        .await
        .expect("request");
    assert_error(&response, 422);
    let message = response.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("apt-get install postgresql"), "{message}");
}
