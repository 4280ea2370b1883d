//! The workspace's memory limit (#13): a deploy or runtime config that would take its
//! instances past `memoryMbLimit` is refused with the amounts.

use crate::support::TestServer;
use crate::support::apps::project;
use crate::support::fixtures::express_files;
use serde_json::json;

#[tokio::test]
async fn a_deploy_past_the_workspaces_memory_limit_is_refused_with_the_amount() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let path = format!("/admin/tenants/{}", ada.tenant_id);
    let bad = ada
        .session
        .patch(&path, &json!({ "memoryMbLimit": -1 }))
        .await
        .expect("patch");
    assert_eq!(bad.status, 400, "{}", bad.body);
    let set = ada
        .session
        .patch(&path, &json!({ "memoryMbLimit": 1000 }))
        .await
        .expect("patch");
    assert_eq!(
        (set.status, &set.body["memoryMbLimit"]),
        (200, &json!(1000)),
        "{}",
        set.body
    );

    let app = project(
        &server,
        &ada,
        "big",
        "node",
        &express_files("big"),
        json!({ "startCommand": "node server.js", "instances": 2, "limits": { "memoryMb": 512 } }),
    )
    .await;
    let deploy_path = format!(
        "/tenants/{}/projects/{}/environments/{}/deployments",
        ada.tenant_id, app.project_id, app.environment_id
    );
    let config_path = format!("/tenants/{}/projects/{}/runtime-config", ada.tenant_id, app.project_id);
    let refused = ada.token.post(&deploy_path, &json!({})).await.expect("deploy");
    assert_eq!(refused.status, 422, "{}", refused.body);
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("1024 MiB") && message.contains("24 MiB over") && message.contains("1000 MiB"),
        "{message}"
    );

    // Control: within the limit the same deploy is accepted (and canceled: its build is not
    // what this test is about).
    let fits = ada
        .token
        .patch(&config_path, &json!({ "instances": 1 }))
        .await
        .expect("runtime-config");
    assert_eq!(fits.status, 200, "{}", fits.body);
    let accepted = ada.token.post(&deploy_path, &json!({})).await.expect("deploy");
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let cancel = format!(
        "/tenants/{}/deployments/{}/cancel",
        ada.tenant_id,
        accepted.body["id"].as_str().expect("id")
    );
    let canceled = ada.token.post(&cancel, &json!({})).await.expect("cancel");
    assert!(matches!(canceled.status, 202 | 409), "{}", canceled.body);
    // With nothing running yet, a runtime config is checked as one environment's.
    let too_big = ada
        .token
        .patch(&config_path, &json!({ "limits": { "memoryMb": 2048 } }))
        .await
        .expect("runtime-config");
    assert_eq!(too_big.status, 422, "{}", too_big.body);
    assert!(
        too_big.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("1048 MiB over")),
        "{}",
        too_big.body
    );
    let too_many = ada
        .token
        .patch(&config_path, &json!({ "instances": 11 }))
        .await
        .expect("runtime-config");
    assert_eq!(too_many.status, 400, "instances is 1–10: {}", too_many.body);
}
