//! Shutdown (#32): a stop ends every kind of background work the server owns — an app's
//! instances and their go-live watch, a build in flight with its lease heartbeat, the access
//! log's queue, the log writer — waiting for each (none is left behind for the process's end to
//! cut off), and stores what was queued when it began.

use crate::support::TestServer;
use crate::support::deploy::static_build;
use crate::support::edge::{edge_client, fetch_with};
use crate::support::host::processes_naming;
use serde_json::json;
use shipyard_store::logs::{LogStore, access_stream};
use std::time::{Duration, Instant};

#[tokio::test]
async fn a_stop_ends_every_kind_of_background_work_and_stores_what_was_queued() {
    let mut server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    let server_js = "require('http').createServer((q, r) => r.end('up')).listen(process.env.PORT);\n";
    // Deployed to ready: its instances run and its go-live watch (2 minutes by default) watches.
    let app_marker = "shutdown-app-2c9e";
    let files = crate::support::fixtures::npm_app_serving(server_js);
    let runtime = json!({ "runtime": { "startCommand": format!("node server.js {app_marker}") } });
    let app = ada.deployable(&server, "kept", "node", &files, runtime).await;
    let ready = ada
        .finished(ada.deploy(&app).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(ready["status"], "ready", "{ready}");
    assert!(
        !processes_naming(app_marker).is_empty(),
        "positive control: the app runs"
    );

    // A one-off command in flight in the app's release.
    let run_marker = "shutdown-run-5d1b";
    let run = ada
        .post_ok(
            &format!(
                "/tenants/{}/projects/{}/environments/{}/runs",
                ada.tenant_id, app.project_id, app.environment_id
            ),
            &json!({ "command": format!("sleep 300 # {run_marker}") }),
        )
        .await;
    assert_eq!(run["status"], "running", "{run}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes_naming(run_marker).is_empty() {
        assert!(Instant::now() < deadline, "positive control: the run's command runs");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A build in flight, holding its lease with a heartbeat.
    let marker = "shutdown-probe-7f3a";
    let slow = ada
        .deployable(
            &server,
            "slow",
            "static",
            &[("index.html", "x")],
            static_build(&format!("sleep 300 # {marker}")),
        )
        .await;
    let building = ada.deploy(&slow).await["id"].as_str().expect("id").to_owned();
    ada.wait_for(&building, 120, |s| s == "building").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while processes_naming(marker).is_empty() {
        assert!(Instant::now() < deadline, "positive control: the build's command runs");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Access-log entries queued just before the stop (every non-GET request is logged).
    let host = ada.live_host_of(&app).await;
    let client = edge_client();
    for i in 0..40 {
        let path = format!("/posted-{i}");
        let answered = fetch_with(&client, &server, reqwest::Method::POST, &host, &path, &[]).await;
        assert_eq!(answered.status, 200, "the app answers");
    }

    let stopping = Instant::now();
    assert!(server.terminate().success(), "the server stops cleanly");
    assert!(
        stopping.elapsed() < Duration::from_secs(60),
        "the stop took {:?}",
        stopping.elapsed()
    );
    let stderr = server.stderr();
    assert!(
        !stderr.contains("background tasks still running at shutdown"),
        "every background task ended: {stderr}"
    );
    assert_eq!(processes_naming(app_marker), Vec::<u32>::new(), "the app still runs");
    assert_eq!(
        processes_naming(marker),
        Vec::<u32>::new(),
        "the build's command still runs"
    );
    assert_eq!(
        processes_naming(run_marker),
        Vec::<u32>::new(),
        "the run's command still runs"
    );

    // Everything queued was stored before the log writer ended.
    let logs = LogStore::open(&server.layout().logs_database()).await.expect("logs");
    let stored = logs
        .read(&access_stream(&app.environment_id), 0, 1000)
        .await
        .expect("access log");
    let posted = stored.iter().filter(|l| l.line.contains("/posted-")).count();
    assert_eq!(posted, 40, "every request made before the stop is in the access log");
}
