//! Environments: live hosts that never collide, renames, and the production environment that
//! stays with its project.

use crate::support::fixtures::EXPRESS_REPO;
use crate::support::git::{branch_with, make_repo};
use crate::support::{TestServer, assert_error};
use serde_json::json;

#[tokio::test]
async fn environments_get_live_hosts_that_never_collide() {
    let server = TestServer::in_process(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let repo = server.dir.path().join("api");
    let url = make_repo(&repo, EXPRESS_REPO);
    branch_with(&repo, "dev", &[("NOTES.md", "x")]);
    let conn = ada
        .post_ok(
            &format!("/tenants/{}/repository-connections", ada.tenant_id),
            &json!({ "provider": "git", "url": url }),
        )
        .await;
    let projects = format!("/tenants/{}/projects", ada.tenant_id);
    let api = ada
        .post_ok(
            &projects,
            &json!({ "name": "api", "type": "node", "repositoryConnectionId": conn["id"] }),
        )
        .await;
    let envs = format!("{projects}/{}/environments", api["id"].as_str().expect("id"));

    let staging = ada.post_ok(&envs, &json!({ "name": "Staging", "branch": "dev" })).await;
    assert_eq!(
        (staging["slug"].as_str(), staging["branch"].as_str()),
        (Some("staging"), Some("dev"))
    );
    assert!(
        staging["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://api-staging.acme.localhost:"))
    );
    assert_error(
        &ada.token
            .post(&envs, &json!({ "name": "staging", "branch": "dev" }))
            .await
            .expect("request"),
        409,
    );
    assert_error(
        &ada.token
            .post(&envs, &json!({ "name": "QA", "branch": "bad branch" }))
            .await
            .expect("request"),
        400,
    );

    // `api-staging` / production would be served at api-staging-production…, which is free,
    // but an environment `staging-production` of `api` would take exactly that host.
    ada.post_ok(
        &projects,
        &json!({ "name": "api-staging", "type": "node", "repositoryConnectionId": conn["id"] }),
    )
    .await;
    let clash = ada
        .token
        .post(&envs, &json!({ "name": "Staging Production", "branch": "dev" }))
        .await
        .expect("request");
    assert_error(&clash, 409);
    assert!(
        clash.body["message"].as_str().is_some_and(|m| m.contains("live host")),
        "{}",
        clash.body
    );

    // The first label `<project>-<env>` is one DNS label: 63 characters at most, for a new
    // project (with `production`) and a new environment alike.
    let too_long = |what: &serde_json::Value| {
        what["message"]
            .as_str()
            .is_some_and(|m| m.contains("would be 64 characters; DNS allows 63"))
    };
    let project = ada
        .token
        .post(
            &projects,
            &json!({ "name": "p".repeat(53), "type": "node", "repositoryConnectionId": conn["id"] }),
        )
        .await
        .expect("request");
    assert_error(&project, 422);
    assert!(too_long(&project.body), "{}", project.body);
    let fits = ada
        .post_ok(
            &projects,
            &json!({ "name": "p".repeat(52), "type": "node", "repositoryConnectionId": conn["id"] }),
        )
        .await;
    assert!(
        fits["environments"][0]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&format!("http://{}-production.acme.", "p".repeat(52)))),
        "positive control: 63 characters fit ({fits})"
    );
    let env = ada
        .token
        .post(&envs, &json!({ "name": "e".repeat(60), "branch": "dev" }))
        .await
        .expect("request");
    assert_error(&env, 422);
    assert!(too_long(&env.body), "{}", env.body);

    let staging_path = format!("{envs}/{}", staging["id"].as_str().expect("id"));
    let renamed = ada
        .token
        .patch(&staging_path, &json!({ "name": "Pre-prod", "branch": "main" }))
        .await
        .expect("request");
    assert_eq!(
        (
            renamed.body["name"].as_str(),
            renamed.body["slug"].as_str(),
            renamed.body["branch"].as_str()
        ),
        (Some("Pre-prod"), Some("staging"), Some("main"))
    );
    let production = api["environments"][0]["id"].as_str().expect("id");
    assert_error(
        &ada.token
            .delete(&format!("{envs}/{production}"))
            .await
            .expect("request"),
        409,
    );
    assert_eq!(ada.token.delete(&staging_path).await.expect("request").status, 204);
    assert_error(&ada.token.delete(&staging_path).await.expect("request"), 404);
}
