//! Red team (#29): the workspace's memory budget counts every instance set that holds memory —
//! starting, serving and draining — so redeploys and concurrent rollbacks of an app with long
//! drains cannot stack sets past it; deleting a project stops its instances at once, draining
//! ones included.

use crate::support::deploy::Deployable;
use crate::support::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Answers after 1.5 s of start-up, so every activation of it lasts that long.
const SLOW_START_JS: &str = "setTimeout(() => require('http').createServer((q, r) => r.end('ok'))\n\
                             .listen(process.env.PORT), 1500);\n";

/// Processes running as one of the server's sandbox uids (every instance runs as its project's).
fn sandbox_processes(server: &TestServer) -> usize {
    let range = server.uid_range();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        })
        .filter_map(|uid| uid.parse::<u32>().ok())
        .filter(|uid| range.contains(uid))
        .count()
}

/// The instances the runtime shows for `app`, starting, serving and draining.
async fn instances(tenant: &Tenant, app: &Deployable) -> Vec<Value> {
    tenant.runtime_view(app).await["instances"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn draining_sets_count_against_the_budget_rollbacks_go_live_one_at_a_time_and_a_delete_stops_everything() {
    let server = TestServer::start(&[]);
    let ada = server.tenant("ada@example.com", "Acme").await;
    // Exactly the default budget of 8,192 MiB, with drains of five minutes.
    let runtime = json!({ "instances": 2, "limits": { "memoryMb": 4096 }, "drainSeconds": 300 });
    let (hog, first) = ada.node_app_ready(&server, "hog", SLOW_START_JS, runtime).await;
    let second = ada
        .finished(ada.deploy(&hog).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(second["status"], "ready", "{second}");
    let states: Vec<Value> = instances(&ada, &hog).await;
    assert_eq!(
        states.iter().filter(|i| i["status"] == "draining").count(),
        2,
        "positive control: the first release drains beside the second: {states:?}"
    );

    // Another project's deploy must fit beside everything the hog holds, draining included.
    let small = json!({ "instances": 1, "limits": { "memoryMb": 256 } });
    let files = crate::support::fixtures::npm_app_serving(SLOW_START_JS);
    let mut runtime = small.clone();
    runtime["startCommand"] = json!("node server.js");
    let other = ada
        .deployable(&server, "other", "node", &files, json!({ "runtime": runtime }))
        .await;
    let refused = ada
        .token
        .post(
            &format!(
                "/tenants/{}/projects/{}/environments/{}/deployments",
                ada.tenant_id, other.project_id, other.environment_id
            ),
            &json!({}),
        )
        .await
        .expect("deploy");
    assert_eq!(refused.status, 422, "{}", refused.body);
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(message.contains("16384 MiB elsewhere"), "{message}");

    // Three rollbacks at once: one goes live, the others are told one is in flight.
    let target = first["releaseId"].as_str().expect("release").to_owned();
    let rollbacks: Vec<_> = (0..3)
        .map(|_| {
            let (client, path, target) = (
                ada.token.clone(),
                format!("/tenants/{}/rollback", ada.tenant_id),
                target.clone(),
            );
            tokio::spawn(async move {
                client
                    .post(&path, &json!({ "releaseId": target }))
                    .await
                    .expect("rollback")
            })
        })
        .collect();
    let mut answers = Vec::new();
    for rollback in rollbacks {
        answers.push(rollback.await.expect("rollback task"));
    }
    let created = answers.iter().filter(|a| a.status == 201).count();
    let busy: Vec<&Value> = answers.iter().filter(|a| a.status == 409).map(|a| &a.body).collect();
    assert_eq!((created, busy.len()), (1, 2), "{answers:?}");
    assert!(
        busy.iter()
            .all(|b| b["message"].as_str().is_some_and(|m| m.contains("going live"))),
        "{busy:?}"
    );

    // What runs: the rollback's two and the second release's two draining: 16,384 MiB, the
    // budget plus this swap's own overlap. The first release's drain was cut short, and its log
    // says so.
    let deadline = Instant::now() + Duration::from_secs(30);
    let states = loop {
        let states = instances(&ada, &hog).await;
        if states.len() <= 4 {
            break states;
        }
        assert!(Instant::now() < deadline, "sets stacked up: {states:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let first_release = first["releaseId"].as_str().expect("release");
    assert!(
        states.iter().all(|i| i["releaseId"] != first_release),
        "the first release's drain ended: {states:?}"
    );
    assert_eq!(
        states.iter().filter(|i| i["status"] == "healthy").count(),
        2,
        "{states:?}"
    );
    let said = ada
        .runtime_log_text(first_release, |text| text.contains("drain cut short"))
        .await;
    assert!(said.contains("drain cut short"), "{said}");
    let running = sandbox_processes(&server);
    assert!(
        running >= 4,
        "positive control: the instances' processes are seen ({running})"
    );

    // Deleting the project stops all of it at once, draining sets included.
    ada.delete_project(&hog).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while sandbox_processes(&server) > 0 {
        assert!(
            Instant::now() < deadline,
            "{} sandbox processes still run 20 s after the delete",
            sandbox_processes(&server)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // With the hog gone, the other project fits.
    let done = ada
        .finished(ada.deploy(&other).await["id"].as_str().expect("id"), 240)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
}
