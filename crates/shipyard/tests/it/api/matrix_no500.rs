//! No-500 matrix, generated from the OpenAPI document: every operation receives missing,
//! forged, revoked and expired-session credentials, bad ids, malformed JSON, wrong types,
//! unknown fields, the wrong content type and an oversized body, and always answers in the
//! contract's shape, never with a 5xx.

use crate::api::operations::{Operation, operations};
use crate::support::{TestServer, assert_error, assert_error_shape};
use reqwest::Method;
use serde_json::{Value, json};
use shipyard_client::{ApiResponse, Client};
use std::collections::HashMap;

fn check(op: &Operation, case: &str, response: &ApiResponse) {
    assert!(
        response.status < 500,
        "{case} on {} {}: {} {}",
        op.method,
        op.path,
        response.status,
        response.body
    );
    if response.status >= 400 {
        assert_error_shape(response);
    }
}

async fn raw(client: &Client, op: &Operation, path: &str, content_type: &str, body: Vec<u8>) -> ApiResponse {
    let request = client
        .request(op.method.clone(), path)
        .header("content-type", content_type)
        .body(body);
    client.send(request).await.expect("request")
}

/// Announces a 2 MiB body and sends none of it: the server must refuse on the header alone.
/// (Sending the megabytes for real races the server's early answer against the client's
/// writes, which makes the client, not the server, fail.)
async fn oversized(base: &str, op: &Operation, path: &str) -> ApiResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
        op.method,
        2 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.expect("write head");
    let mut raw = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("answer within 10 s")
        .expect("read answer");
    let text = String::from_utf8_lossy(&raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    ApiResponse {
        status,
        headers: Default::default(),
        body,
    }
}

fn wrong_types(props: &[(String, String)]) -> Value {
    let wrong = props
        .iter()
        .map(|(name, ty)| {
            let value = match ty.as_str() {
                "string" => json!(12345),
                "integer" | "number" => json!("not a number"),
                "boolean" => json!("yes"),
                _ => json!(12345),
            };
            (name.clone(), value)
        })
        .collect();
    Value::Object(wrong)
}

#[tokio::test]
async fn no_input_makes_the_server_fail() {
    let server = TestServer::start(&["--allow-signup"]);
    let admin = server.tenant("admin@example.com", "Admin's").await;
    let revoked = admin.session.create_token("revoked").await.expect("token");
    let list = admin
        .session
        .get("/account/api-tokens")
        .await
        .expect("request")
        .ok()
        .expect("list");
    let revoked_id = list["items"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        admin
            .session
            .delete(&format!("/account/api-tokens/{revoked_id}"))
            .await
            .expect("request")
            .status,
        204
    );
    let token_id = list["items"][1]["id"].as_str().expect("id").to_owned();
    let mut fixtures: HashMap<&str, String> = admin.fixtures(token_id, &admin.project_fixture(&server, "owned").await);
    fixtures.insert("runId", admin.run_fixture(&server).await);
    let (backup_id, restore_id) = admin.backup_fixture(&fixtures["databaseId"]).await;
    fixtures.insert("backupId", backup_id);
    fixtures.insert("restoreId", restore_id);

    let doc = server.openapi().await;
    let mut ops = operations(&doc);
    // Deleting removes the fixtures later cases name, and logging out ends the session they
    // use, so deletes go after everything else and logout last.
    ops.sort_by_key(|op| (op.path == "/auth/logout", op.method == Method::DELETE));

    let anonymous = server.client();
    let forged_token = server.client().with_token("shpat_0000");
    let revoked_token = server.client().with_token(revoked);
    let ended_session = server.client().with_session("0".repeat(64));
    let mut exercised = 0;
    for op in &ops {
        let path = op.fill(&fixtures);
        for (case, client) in [
            ("no credentials", &anonymous),
            ("forged token", &forged_token),
            ("revoked token", &revoked_token),
            ("unknown session", &ended_session),
        ] {
            let response = client
                .call(op.method.clone(), &path, Some(&json!({})))
                .await
                .expect("request");
            check(op, case, &response);
            if !op.public {
                assert_error(&response, 401);
            }
        }

        for bad_id in [
            "nope",
            "ten_00000000000000000000000000000000",
            "%FF%FE",
            &"x".repeat(2000),
        ] {
            if op.params.is_empty() {
                break;
            }
            let response = admin
                .session
                .call(op.method.clone(), &op.fill_all(bad_id), Some(&json!({})))
                .await
                .expect("request");
            check(op, "bad id", &response);
            assert!(
                matches!(response.status, 400 | 404),
                "bad id {bad_id:?} on {}: {}",
                op.path,
                response.status
            );
        }

        let json_type = "application/json";
        let cases: Vec<(&str, &str, Vec<u8>, Option<u16>)> = vec![
            ("malformed JSON", json_type, b"{\"a\":".to_vec(), Some(400)),
            ("a JSON array", json_type, b"[1, 2]".to_vec(), Some(400)),
            ("a JSON string", json_type, b"\"text\"".to_vec(), Some(400)),
            (
                "wrong types",
                json_type,
                wrong_types(op.body.as_deref().unwrap_or_default())
                    .to_string()
                    .into_bytes(),
                Some(400),
            ),
            (
                "unknown field",
                json_type,
                br#"{"zzUnknownField": 1}"#.to_vec(),
                Some(400),
            ),
            ("wrong content type", "text/plain", b"email=a".to_vec(), Some(415)),
            ("null bytes", json_type, b"{\"name\": \"\0\"}".to_vec(), None),
        ];
        for (case, content_type, body, expected) in cases {
            let response = raw(&admin.session, op, &path, content_type, body).await;
            check(op, case, &response);
            let reads_body = op.body.as_ref().is_some_and(|props| !props.is_empty());
            if let (true, Some(expected)) = (reads_body, expected) {
                assert_eq!(
                    response.status, expected,
                    "{case} on {} {}: {}",
                    op.method, op.path, response.body
                );
                if case == "unknown field" {
                    assert!(
                        response.body["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("zzUnknownField"))
                    );
                }
            }
        }
        let oversized = oversized(&server.base, op, &path).await;
        assert_eq!(
            oversized.status, 413,
            "oversized body on {} {}: {}",
            op.method, op.path, oversized.body
        );
        assert_error_shape(&oversized);
        exercised += 1;
    }
    assert_eq!(exercised, ops.len());
    assert!(
        !server.stderr().contains("internal error"),
        "a request caused an internal error:\n{}",
        server.stderr()
    );
    let fresh = server
        .client()
        .login(&admin.email, crate::support::PASSWORD)
        .await
        .expect("server still serves logins");
    assert_eq!(
        fresh.call(Method::GET, "/auth/me", None).await.expect("request").status,
        200,
        "server still healthy"
    );
}
