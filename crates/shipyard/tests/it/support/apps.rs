//! The steps around the apps the runtime tests deploy (their files are in `fixtures`): a
//! project from their files, a deploy to ready, a poll of the runtime view.

use super::deploy::Deployable;
use super::{Tenant, TestServer};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// A project `name` of `kind` from `files`, running as `runtime` says.
pub async fn project(
    server: &TestServer,
    ada: &Tenant,
    name: &str,
    kind: &str,
    files: &[(&str, String)],
    runtime: Value,
) -> Deployable {
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    ada.deployable(server, name, kind, &files, json!({ "runtime": runtime }))
        .await
}

/// Deploys `app` and waits (at most 400 s) until it is ready.
pub async fn deploy_ready(ada: &Tenant, app: &Deployable) -> Value {
    let done = ada
        .finished(ada.deploy(app).await["id"].as_str().expect("id"), 400)
        .await;
    assert_eq!(done["status"], "ready", "{done}");
    done
}

/// Polls the runtime view until `ok` holds of it (at most 60 s).
pub async fn runtime_until(ada: &Tenant, app: &Deployable, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = ada.runtime_view(app).await;
        if ok(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "{what}: {view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
