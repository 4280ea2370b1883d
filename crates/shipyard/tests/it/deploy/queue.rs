//! The build queue, one job at a time (a server with stepped builds, #32): a deployment waits
//! `queued` until a worker takes it, the oldest is taken first, and one canceled while queued
//! is never built.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use serde_json::json;

#[tokio::test]
async fn queued_deployments_are_built_oldest_first_and_a_canceled_one_never() {
    let server = TestServer::stepped(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let build = static_build("mkdir dist && cp index.html dist/");
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        let app = ada
            .deployable(&server, name, "static", &[("index.html", name)], build.clone())
            .await;
        let queued = ada.deploy(&app).await;
        assert_eq!(queued["status"], "queued", "{queued}");
        ids.push(queued["id"].as_str().expect("id").to_owned());
    }
    let status = |id: &str| {
        let (ada, path) = (ada.clone(), format!("/tenants/{}/deployments/{id}", ada.tenant_id));
        async move { ada.token.get(&path).await.expect("deployment").body["status"].clone() }
    };
    let canceled = ada
        .token
        .post(
            &format!("/tenants/{}/deployments/{}/cancel", ada.tenant_id, ids[1]),
            &json!({}),
        )
        .await
        .expect("request");
    assert_eq!(canceled.status, 202, "{}", canceled.body);
    assert_eq!(canceled.body["status"], "canceled", "a queued deployment ends at once");

    assert!(server.build_next().await, "a job was queued");
    let first = ada.finished(&ids[0], 5).await;
    assert_eq!(first["status"], "ready", "the oldest went first: {first}");
    assert_eq!(status(&ids[2]).await, "queued", "the newest still waits");

    assert!(server.build_next().await, "a job was still queued");
    assert_eq!(ada.finished(&ids[2], 5).await["status"], "ready");
    assert!(!server.build_next().await, "the canceled one was never taken");
    assert_eq!(status(&ids[1]).await, "canceled");
}
