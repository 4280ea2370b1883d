//! Personal access tokens: shown once, hashed at rest, session-only management, revocation.

use crate::support::{TestServer, assert_error, files_under};
use serde_json::json;
use shipyard_client::types::account::AuthMethod;

#[tokio::test]
async fn token_lifecycle() {
    let server = TestServer::start(&[]);
    let (ada, me) = server.signup("ada@example.com", "Acme").await;
    let created = ada
        .post("/account/api-tokens", &json!({ "name": "ci", "expiresInDays": 30 }))
        .await
        .expect("request");
    assert_eq!(created.status, 201);
    let token = created.body["token"].as_str().expect("token shown once").to_owned();
    assert!(token.starts_with("shpat_"));
    assert!(token.starts_with(created.body["prefix"].as_str().expect("prefix")));
    assert!(created.body["expiresAt"].is_string());

    let bearer = ada.with_token(&token);
    let as_token = bearer.me().await.expect("token works");
    assert_eq!(as_token.auth_method, AuthMethod::Token);
    assert_eq!(as_token.user.id, me.user.id);
    assert_eq!(as_token.memberships, me.memberships);

    let list = ada
        .get("/account/api-tokens")
        .await
        .expect("request")
        .ok()
        .expect("list");
    assert_eq!(list["total"], 1);
    assert_eq!((list["page"].as_u64(), list["perPage"].as_u64()), (Some(1), Some(20)));
    let item = &list["items"][0];
    assert!(item.get("token").is_none(), "lists never show the token: {item}");
    assert!(item["lastUsedAt"].is_string(), "use is recorded: {item}");

    // Token management is for sessions only.
    assert_error(&bearer.get("/account/api-tokens").await.expect("request"), 403);
    assert_error(
        &bearer
            .post("/account/api-tokens", &json!({ "name": "x" }))
            .await
            .expect("request"),
        403,
    );

    let id = created.body["id"].as_str().expect("id");
    assert_eq!(
        ada.delete(&format!("/account/api-tokens/{id}"))
            .await
            .expect("request")
            .status,
        204
    );
    assert_error(&bearer.get("/auth/me").await.expect("request"), 401);
    assert_error(
        &ada.delete(&format!("/account/api-tokens/{id}")).await.expect("request"),
        404,
    );

    // The token was never written in clear anywhere under the data dir.
    for file in files_under(&server.data_dir()) {
        let bytes = std::fs::read(&file).expect("read");
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "token found in {}",
            file.display()
        );
    }
    assert!(
        !(server.stderr() + &server.stdout()).contains(&token),
        "token in the server output"
    );
}

#[tokio::test]
async fn token_requests_are_validated() {
    let server = TestServer::in_process(&[]);
    let (ada, _) = server.signup("ada@example.com", "Acme").await;
    for (body, field) in [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "ci", "expiresInDays": 0 }), "expiresInDays"),
        (json!({ "name": "ci", "expiresInDays": 4000 }), "expiresInDays"),
        (json!({ "name": "ci", "expiresInDays": -1 }), "expiresInDays"),
        (json!({ "name": "ci", "scopes": ["all"] }), "scopes"),
    ] {
        let response = ada.post("/account/api-tokens", &body).await.expect("request");
        assert_error(&response, 400);
        assert!(
            response.body["message"].as_str().is_some_and(|m| m.contains(field)),
            "{}",
            response.body
        );
    }
    assert_error(
        &ada.with_token("shpat_nope").get("/auth/me").await.expect("request"),
        401,
    );
    let malformed = ada
        .send(
            ada.request(reqwest::Method::GET, "/auth/me")
                .header("authorization", "Basic abc"),
        )
        .await;
    assert_error(&malformed.expect("request"), 401);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    use shipyard_store::{ApiTokens, Backend, SqliteStore, Users};
    let server = TestServer::in_process(&[]);
    let (ada, _) = server.signup("ada@example.com", "Acme").await;
    // Time cannot be fast-forwarded in a running server, so the test writes a token that
    // expired a minute ago straight into the server's database (WAL allows a second writer).
    let store = SqliteStore::open(&server.layout().database()).await.expect("open db");
    let mut tx = store.write().await.expect("begin");
    let user = tx
        .user_by_email(&shipyard_core::Email::parse("ada@example.com").expect("email"))
        .await
        .expect("lookup")
        .expect("ada exists");
    let token = shipyard_core::OpaqueToken::generate("shpat_");
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    tx.create_token(
        &user.id,
        &shipyard_store::NewToken {
            name: "old",
            prefix: &token.display_prefix(),
            token_hash: &token.hash,
            expires_at: Some(past),
            scopes: &[shipyard_core::TokenScope::Write],
            projects: None,
        },
    )
    .await
    .expect("insert");
    SqliteStore::commit(tx).await.expect("commit");
    store.close().await;
    let response = ada.with_token(&token.plain).get("/auth/me").await.expect("request");
    assert_error(&response, 401);
    assert!(response.body["message"].as_str().is_some_and(|m| m.contains("expired")));
}
