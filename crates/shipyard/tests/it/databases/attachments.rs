//! Attaching a database to a project and detaching it: what is refused (a variable a secret or
//! another database holds, a project or environment not in the workspace), what is listed, and
//! `?redeploy=true` queuing a deployment per environment covered.

use crate::support::{TestServer, assert_error};
use serde_json::{Value, json};

#[tokio::test]
async fn attachments_are_validated_listed_and_undone() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let web = ada.project_fixture(&server, "web").await;
    let other = ada.project_fixture(&server, "other").await;
    let path = format!("/tenants/{}/databases/{}", ada.tenant_id, web.database_id);
    let (attach, detach) = (format!("{path}/attach"), format!("{path}/detach"));
    let post = |route: &str, body: Value| {
        let (client, route) = (ada.token.clone(), route.to_owned());
        async move { client.post(&route, &body).await.expect("request") }
    };

    let made = post(&attach, json!({ "projectId": web.project_id })).await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert_eq!(
        made.body["database"]["attachments"],
        json!([{ "projectId": web.project_id, "environmentId": null, "envVar": "DATABASE_URL" }])
    );
    assert!(
        made.body["takesEffect"]
            .as_str()
            .is_some_and(|s| s.contains("next deployment")),
        "{}",
        made.body
    );
    assert_eq!(made.body["deployments"], json!([]));
    let listed = ada.database(&web.database_id).await;
    assert_eq!(listed["attachments"], made.body["database"]["attachments"]);

    let refusals = [
        (json!({ "projectId": web.project_id }), 409, "attached to that project"),
        (
            json!({ "projectId": web.project_id, "environmentId": web.environment_id, "envVar": "API_KEY" }),
            409,
            "secret API_KEY",
        ),
        (
            json!({ "projectId": web.project_id, "environmentId": web.environment_id }),
            409,
            "DATABASE_URL already holds the URL",
        ),
        (json!({ "projectId": web.project_id, "envVar": "1BAD" }), 400, "envVar"),
        (json!({ "projectId": "prj_nothere" }), 422, "projectId"),
        (
            json!({ "projectId": web.project_id, "environmentId": other.environment_id }),
            422,
            "environmentId",
        ),
        (json!({ "projectId": web.project_id, "extra": 1 }), 400, "extra"),
        (json!({}), 400, "projectId"),
    ];
    for (body, status, says) in refusals {
        let refused = post(&attach, body.clone()).await;
        assert_error(&refused, status);
        assert!(
            refused.body["message"].as_str().is_some_and(|m| m.contains(says)),
            "{body} → {}",
            refused.body
        );
    }

    let not_there = post(
        &detach,
        json!({ "projectId": web.project_id, "environmentId": web.environment_id }),
    )
    .await;
    assert_error(&not_there, 404);
    let undone = post(&detach, json!({ "projectId": web.project_id })).await;
    assert_eq!(undone.status, 200, "{}", undone.body);
    assert_eq!(undone.body["database"]["attachments"], json!([]));

    let redeployed = post(
        &format!("{attach}?redeploy=true"),
        json!({ "projectId": web.project_id, "environmentId": web.environment_id, "envVar": "PRIMARY_DB" }),
    )
    .await;
    assert_eq!(redeployed.status, 200, "{}", redeployed.body);
    let queued = redeployed.body["deployments"].as_array().expect("deployments");
    assert_eq!(queued.len(), 1, "{}", redeployed.body);
    let deployment = ada
        .token
        .get(&format!(
            "/tenants/{}/deployments/{}",
            ada.tenant_id,
            queued[0].as_str().expect("id")
        ))
        .await
        .expect("request");
    assert_eq!(deployment.body["environmentId"], json!(web.environment_id));
    assert_eq!(deployment.body["note"], "database web-db attached as PRIMARY_DB");

    // The project goes, and its attachments with it.
    let gone = ada
        .token
        .delete(&format!("/tenants/{}/projects/{}", ada.tenant_id, other.project_id))
        .await
        .expect("request");
    assert!(gone.status < 300, "{}", gone.body);
    assert_eq!(
        ada.database(&web.database_id).await["attachments"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}
