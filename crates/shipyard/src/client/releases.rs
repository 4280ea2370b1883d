//! `releases list` and `rollback`: the environment's release history and going back in it
//! (no rebuild), waiting until the old release serves.

use super::args::{RollbackArgs, Target};
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// `releases list`.
pub async fn list(ctx: &Context, target: &Target) -> Result<(), Failure> {
    let (project, env) = ctx.environment(target).await?;
    let items = history(ctx, &project, &env).await?;
    output::list(
        ctx.json,
        &items,
        &["VERSION", "STATUS", "COMMIT", "ROLLBACK OF", "CREATED", "ACTIVATED"],
        |r| {
            vec![
                text(&r["version"]),
                text(&r["status"]),
                text(&r["commitSha"]).chars().take(8).collect(),
                text(&r["rollbackOf"]),
                ago(&r["createdAt"]),
                ago(&r["activatedAt"]),
            ]
        },
    );
    Ok(())
}

/// `rollback`: makes a release from `RELEASE` (id or version; default the one active before
/// the current one) and waits until it is the active release.
pub async fn rollback(ctx: &Context, args: RollbackArgs) -> Result<(), Failure> {
    let timeout =
        crate::config::values::duration("timeout", &args.timeout).map_err(|e| Failure::Usage(e.to_string()))?;
    let (project, env) = ctx.environment(&args.target).await?;
    let items = history(ctx, &project, &env).await?;
    let target = match &args.release {
        Some(wanted) => items
            .iter()
            .find(|r| r["id"] == wanted.as_str() || r["version"] == wanted.as_str())
            .ok_or_else(|| Failure::Api {
                status: 404,
                message: format!(
                    "{} has no release {wanted} (`shipyard releases list` shows them)",
                    text(&env["slug"])
                ),
            })?,
        None => previous(&items).ok_or_else(|| Failure::Api {
            status: 409,
            message: format!("{} has no earlier release to roll back to", text(&env["slug"])),
        })?,
    };
    let mut body = json!({ "releaseId": target["id"] });
    if let Some(reason) = &args.reason {
        body["reason"] = json!(reason);
    }
    let made = ctx.post("/rollback", &body).await?;
    let runtime_path = format!(
        "/projects/{}/environments/{}/runtime",
        text(&project["id"]),
        text(&env["id"])
    );
    let deadline = Instant::now() + timeout;
    let runtime = loop {
        let runtime = ctx.get(&runtime_path).await?;
        if runtime["activeRelease"]["id"] == made["id"] {
            break runtime;
        }
        if Instant::now() >= deadline {
            return Err(Failure::GaveUp(format!(
                "{} ({} is not active yet)",
                args.timeout,
                text(&made["version"])
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    if ctx.json {
        output::json(&json!({ "release": made, "url": runtime["urls"][0] }));
    } else {
        eprintln!(
            "Rolled back to {} as {}.",
            text(&target["version"]),
            text(&made["version"])
        );
        println!("{}", text(&runtime["urls"][0]));
    }
    Ok(())
}

/// The environment's releases, newest first.
async fn history(ctx: &Context, project: &Value, env: &Value) -> Result<Vec<Value>, Failure> {
    let path = format!(
        "/projects/{}/releases?environmentId={}",
        text(&project["id"]),
        text(&env["id"])
    );
    super::projects::all(ctx, &path).await
}

/// The release that served before the active one: the latest activated other than it (if
/// retention pruned its files, the server says so rather than this picking an older one).
fn previous(items: &[Value]) -> Option<&Value> {
    items
        .iter()
        .filter(|r| r["status"] != "active")
        .filter_map(|r| {
            let at = chrono::DateTime::parse_from_rfc3339(r["activatedAt"].as_str()?).ok()?;
            Some((at, r))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_release_is_the_one_active_before_the_current() {
        let items = vec![
            json!({ "version": "v3", "status": "active", "activatedAt": "2026-01-03T00:00:00Z" }),
            json!({ "version": "v2", "status": "inactive", "activatedAt": "2026-01-02T00:00:00Z", "artifactAvailable": false }),
            json!({ "version": "v1", "status": "inactive", "activatedAt": "2026-01-01T00:00:00Z" }),
            json!({ "version": "v4", "status": "inactive", "activatedAt": null }),
        ];
        assert_eq!(previous(&items).map(|r| &r["version"]), Some(&json!("v2")));
        assert!(previous(&items[..1]).is_none());
    }
}
