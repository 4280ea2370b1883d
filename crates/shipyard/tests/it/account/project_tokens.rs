//! Tokens limited to some projects (`projectIds`), generated from the OpenAPI document: every
//! route that names something of another project is 404, lists are filtered, workspace-level
//! writes are 403, a database is reached only while every project it serves is the token's, and
//! another workspace of the same user is as foreign as anyone's.

use crate::api::operations::operations;
use crate::support::TestServer;
use serde_json::json;

/// Path parameters that name something of one project.
const OF_A_PROJECT: &[&str] = &[
    "projectId",
    "environmentId",
    "deploymentId",
    "secretId",
    "releaseId",
    "domainId",
];

#[tokio::test]
async fn a_token_limited_to_projects_sees_no_other() {
    let server = TestServer::in_process(&["--allow-signup"]);
    let owner = server.tenant("owner@example.com", "Owned").await;
    let mine = owner.project_fixture(&server, "mine").await;
    let other = owner.project_fixture(&server, "other").await;
    let made = owner
        .session
        .post(
            "/account/api-tokens",
            &json!({ "name": "agent", "projectIds": [mine.project_id] }),
        )
        .await
        .expect("request");
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["projectIds"], json!([mine.project_id]));
    let agent = owner.session.with_token(made.body["token"].as_str().expect("token"));
    let me = agent.get("/auth/me").await.expect("request").ok().expect("me");
    assert_eq!(me["token"]["projectIds"], json!([mine.project_id]));

    // Every route that names something of a project: the other project's is 404, as a
    // foreign workspace's; the same route with its own project's ids answers (positive control).
    let token_id = made.body["id"].as_str().expect("id").to_owned();
    let own = owner.fixtures(token_id.clone(), &mine);
    let theirs = owner.fixtures(token_id, &other);
    let doc = server.openapi().await;
    let ops: Vec<_> = operations(&doc)
        .into_iter()
        .filter(|op| op.path.starts_with("/tenants/{tenantId}"))
        .filter(|op| op.params.iter().any(|p| OF_A_PROJECT.contains(&p.as_str())))
        .filter(|op| op.params.iter().all(|p| own.contains_key(p.as_str())))
        .collect();
    assert!(ops.len() >= 20, "the routes of a project: {}", ops.len());
    for op in &ops {
        let hidden = agent
            .call(op.method.clone(), &op.fill(&theirs), Some(&json!({})))
            .await
            .expect("request");
        assert_eq!(
            hidden.status, 404,
            "the other project on {} {}: {}",
            op.method, op.path, hidden.body
        );
        if !op.is_write() {
            let seen = agent.get(&op.fill(&own)).await.expect("request");
            assert_eq!(seen.status, 200, "its own project on {}: {}", op.path, seen.body);
        }
    }

    // Lists are filtered: its project, its project's secrets (no workspace secret).
    let t = &owner.tenant_id;
    owner
        .post_ok(
            &format!("/tenants/{t}/secrets"),
            &json!({ "name": "SHARED", "value": "x", "scope": "workspace" }),
        )
        .await;
    let projects = agent
        .get(&format!("/tenants/{t}/projects"))
        .await
        .expect("request")
        .ok()
        .expect("list");
    assert_eq!(projects["total"], 1);
    assert_eq!(projects["items"][0]["id"], json!(mine.project_id));
    let secrets = agent
        .get(&format!("/tenants/{t}/secrets"))
        .await
        .expect("request")
        .ok()
        .expect("list");
    let items = secrets["items"].as_array().expect("items");
    assert!(!items.is_empty(), "its own project's secret is listed");
    assert!(
        items.iter().all(|s| s["projectId"] == json!(mine.project_id)),
        "{secrets}"
    );
    let all = owner
        .token
        .get(&format!("/tenants/{t}/secrets"))
        .await
        .expect("request")
        .ok()
        .expect("list");
    assert!(
        all["total"].as_i64() > secrets["total"].as_i64(),
        "the owner's token sees more"
    );

    // Writes to the workspace as a whole are 403; a rollback to the other project's release is
    // as if it did not exist; a database attached to none of its projects cannot be changed.
    for (path, body) in [
        (
            format!("/tenants/{t}/projects"),
            json!({ "name": "new", "type": "static", "repositoryConnectionId": mine.connection_id }),
        ),
        (
            format!("/tenants/{t}/members"),
            json!({ "email": "x@example.com", "role": "viewer" }),
        ),
        (
            format!("/tenants/{t}/repository-connections"),
            json!({ "provider": "git", "url": "https://example.com/x.git" }),
        ),
        (
            format!("/tenants/{t}/databases"),
            json!({ "name": "more", "engine": "postgres" }),
        ),
        (
            format!("/tenants/{t}/secrets"),
            json!({ "name": "MORE", "value": "x", "scope": "workspace" }),
        ),
        (format!("/tenants/{t}/databases/{}/stop", mine.database_id), json!({})),
    ] {
        let refused = agent.post(&path, &body).await.expect("request");
        assert_eq!(refused.status, 403, "{path}: {}", refused.body);
    }
    let rollback = agent
        .post(
            &format!("/tenants/{t}/rollback"),
            &json!({ "releaseId": other.release_id }),
        )
        .await
        .expect("request");
    assert_eq!(rollback.status, 422, "{}", rollback.body);
    // Positive control: a secret of its own project can be set.
    let set = agent
        .post(
            &format!("/tenants/{t}/secrets"),
            &json!({ "name": "MINE", "value": "x", "scope": "project", "projectId": mine.project_id }),
        )
        .await
        .expect("request");
    assert_eq!(set.status, 201, "{}", set.body);

    // A database it reaches only while every project it serves is its own.
    let db = format!("/tenants/{t}/databases/{}", mine.database_id);
    assert_eq!(agent.get(&db).await.expect("request").status, 404, "attached to none");
    let attach = |project: String| {
        let (client, path) = (owner.token.clone(), format!("{db}/attach"));
        async move {
            let made = client
                .post(&path, &json!({ "projectId": project }))
                .await
                .expect("request");
            assert_eq!(made.status, 200, "{}", made.body);
        }
    };
    attach(mine.project_id.clone()).await;
    assert_eq!(
        agent.get(&db).await.expect("request").status,
        200,
        "attached to its project alone"
    );
    attach(other.project_id.clone()).await;
    assert_eq!(
        agent.get(&db).await.expect("request").status,
        404,
        "shared with another project"
    );
    let stop = agent.post(&format!("{db}/stop"), &json!({})).await.expect("request");
    assert_eq!(stop.status, 403, "{}", stop.body);
    let dbs = agent
        .get(&format!("/tenants/{t}/databases"))
        .await
        .expect("request")
        .ok()
        .expect("list");
    assert!(
        dbs["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|d| d["id"] != json!(mine.database_id)),
        "{dbs}"
    );

    // Another workspace of the same user is as foreign as anyone's.
    let stranger = server.tenant("stranger@example.com", "Elsewhere").await;
    let t2 = &stranger.tenant_id;
    stranger
        .post_ok(
            &format!("/tenants/{t2}/members"),
            &json!({ "email": owner.email, "role": "member" }),
        )
        .await;
    let members = format!("/tenants/{t2}/members");
    assert_eq!(
        owner.token.get(&members).await.expect("request").status,
        200,
        "its owner's full token"
    );
    for path in [
        members.clone(),
        format!("/tenants/{t2}/databases"),
        format!("/tenants/{t2}/projects"),
    ] {
        assert_eq!(agent.get(&path).await.expect("request").status, 404, "{path}");
    }

    // A project made later is not reached either: the token reaches fewer projects, never more.
    let later = owner.project_fixture(&server, "later").await;
    let hidden = agent
        .get(&format!("/tenants/{t}/projects/{}", later.project_id))
        .await
        .expect("request");
    assert_eq!(hidden.status, 404);
    let bad = owner
        .session
        .post(
            "/account/api-tokens",
            &json!({ "name": "x", "projectIds": ["prj_00000000000000000000000000000000"] }),
        )
        .await
        .expect("request");
    assert_eq!(bad.status, 422, "{}", bad.body);
}
