//! Live logs: a follower that drops mid-build and resumes with `Last-Event-ID` sees exactly
//! the historical log, and 200 concurrent followers all receive every line.

use crate::support::TestServer;
use crate::support::deploy::SseReader;
use serde_json::{Value, json};

/// A build that prints a numbered line every 0.1 s for about 4 s.
fn slow_printer() -> Value {
    json!({ "build": {
        "buildCommand": "for i in $(seq 1 40); do echo \"line $i\"; sleep 0.1; done; mkdir -p dist; echo ok > dist/index.html",
        "outputDirectory": "dist"
    } })
}

#[tokio::test]
async fn a_reconnecting_follower_misses_and_repeats_nothing() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(&server, "printer", "static", &[("index.html", "x")], slow_printer())
        .await;
    let id = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    let path = format!("/tenants/{}/deployments/{id}/stream", ada.tenant_id);

    let mut first = SseReader::open(&ada.token, &path, None).await;
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut statuses = Vec::new();
    let mut last_id = String::new();
    // Read until the build is printing, then drop the connection mid-build.
    while seen.iter().filter(|(_, l)| l.starts_with("line ")).count() < 5 {
        let frame = first.next().await.expect("stream ended early");
        match frame.data["type"].as_str() {
            Some("log") => {
                last_id = frame.id.clone().expect("log frames carry an id");
                assert_eq!(last_id, frame.data["seq"].to_string());
                seen.push((
                    frame.data["seq"].as_i64().expect("seq"),
                    frame.data["line"].as_str().expect("line").to_owned(),
                ));
            }
            Some("status") => statuses.push(frame.data["status"].as_str().expect("status").to_owned()),
            other => panic!("unexpected frame {other:?}"),
        }
    }
    drop(first);
    let at_drop = ada
        .token
        .get(&format!("/tenants/{}/deployments/{id}", ada.tenant_id))
        .await
        .expect("request")
        .body;
    assert_eq!(
        at_drop["status"], "building",
        "the connection dropped while the build ran"
    );

    let mut second = SseReader::open(&ada.token, &path, Some(&last_id)).await;
    let mut done = None;
    while let Some(frame) = second.next().await {
        match frame.data["type"].as_str() {
            Some("log") => seen.push((
                frame.data["seq"].as_i64().expect("seq"),
                frame.data["line"].as_str().expect("line").to_owned(),
            )),
            Some("status") => statuses.push(frame.data["status"].as_str().expect("status").to_owned()),
            Some("done") => done = Some(frame.data["status"].clone()),
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert_eq!(done, Some(json!("ready")), "the stream ends with done");
    assert!(statuses.contains(&"ready".to_owned()), "{statuses:?}");

    let history: Vec<(i64, String)> = ada
        .log_lines(&id)
        .await
        .iter()
        .map(|l| {
            (
                l["seq"].as_i64().expect("seq"),
                l["line"].as_str().expect("line").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen, history,
        "the union of both connections is the historical log, in order, without repeats"
    );
    assert_eq!(history.iter().filter(|(_, l)| l.starts_with("line ")).count(), 40);
    let seqs: Vec<i64> = history.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=history.len() as i64).collect::<Vec<_>>(),
        "seq starts at 1 and grows by 1"
    );

    // A finished deployment's stream replays everything and ends; ?after= resumes too.
    let mut replay = SseReader::open(&ada.token, &format!("{path}?after=40"), None).await;
    let mut replayed = Vec::new();
    while let Some(frame) = replay.next().await {
        if frame.data["type"] == "log" {
            replayed.push(frame.data["seq"].as_i64().expect("seq"));
        }
    }
    assert_eq!(replayed, seqs.iter().copied().filter(|s| *s > 40).collect::<Vec<_>>());
    let page = ada
        .token
        .get(&format!(
            "/tenants/{}/deployments/{id}/logs?after=10&limit=5",
            ada.tenant_id
        ))
        .await
        .expect("request");
    assert_eq!(
        (page.body["lastSeq"].as_i64(), page.body["done"].as_bool()),
        (Some(15), Some(false))
    );
    assert_eq!(page.body["items"][0]["seq"], 11);
    let all = ada
        .token
        .get(&format!("/tenants/{}/deployments/{id}/logs", ada.tenant_id))
        .await
        .expect("request");
    assert_eq!(all.body["done"], true);
    crate::support::assert_error(
        &ada.token
            .get(&format!("/tenants/{}/deployments/{id}/logs?limit=0", ada.tenant_id))
            .await
            .expect("request"),
        400,
    );
}

#[tokio::test]
async fn two_hundred_followers_each_receive_every_line() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let app = ada
        .deployable(&server, "printer", "static", &[("index.html", "x")], slow_printer())
        .await;
    let id = ada.deploy(&app).await["id"].as_str().expect("id").to_owned();
    let path = format!("/tenants/{}/deployments/{id}/stream", ada.tenant_id);
    let mut followers = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (client, path) = (ada.token.clone(), path.clone());
        followers.spawn(async move {
            let mut reader = SseReader::open(&client, &path, None).await;
            let mut seqs = Vec::new();
            let mut ended = false;
            while let Some(frame) = reader.next().await {
                match frame.data["type"].as_str() {
                    Some("log") => seqs.push(frame.data["seq"].as_i64().expect("seq")),
                    Some("done") => ended = true,
                    _ => {}
                }
            }
            assert!(ended, "every follower sees done");
            seqs
        });
    }
    let mut results = Vec::new();
    while let Some(result) = followers.join_next().await {
        results.push(result.expect("follower task"));
    }
    let total = ada.log_lines(&id).await.len() as i64;
    assert!(total > 40);
    for seqs in results {
        assert_eq!(
            seqs,
            (1..=total).collect::<Vec<_>>(),
            "a follower missed or repeated a line"
        );
    }
}
