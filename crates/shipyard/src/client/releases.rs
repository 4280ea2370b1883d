//! `releases list` and `rollback`: the environment's release history and going back in it
//! (no rebuild), waiting until the old release serves.

use super::args::{RollbackArgs, Target};
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use serde_json::json;
use shipyard_client::types::deployments::{ReleaseView, RollbackRequest};
use shipyard_client::types::projects::{EnvironmentView, ProjectView};
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
                text(&r.version),
                text(&r.status),
                text(&r.commit_sha).chars().take(8).collect(),
                text(&r.rollback_of),
                ago(&r.created_at),
                ago(&r.activated_at),
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
            .find(|r| r.id == *wanted || r.version == *wanted)
            .ok_or_else(|| Failure::Api {
                status: 404,
                message: format!(
                    "{} has no release {wanted} (`shipyard releases list` shows them)",
                    text(&env.slug)
                ),
            })?,
        None => previous(&items).ok_or_else(|| Failure::Api {
            status: 409,
            message: format!("{} has no earlier release to roll back to", text(&env.slug)),
        })?,
    };
    let req = RollbackRequest {
        release_id: target.id.clone(),
        reason: args.reason.clone(),
    };
    let made = ctx.ws.rollback(&req).await?;
    let deadline = Instant::now() + timeout;
    let runtime = loop {
        let runtime = ctx.ws.runtime(&project.id, &env.id).await?;
        if runtime.active_release.as_ref().is_some_and(|a| a.id == made.id) {
            break runtime;
        }
        if Instant::now() >= deadline {
            return Err(Failure::GaveUp(format!(
                "{} ({} is not active yet)",
                args.timeout,
                text(&made.version)
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let url = runtime.urls.first();
    if ctx.json {
        output::json(&json!({ "release": made, "url": url }));
    } else {
        eprintln!("Rolled back to {} as {}.", text(&target.version), text(&made.version));
        println!("{}", text(&url));
    }
    Ok(())
}

/// The environment's releases, newest first.
async fn history(ctx: &Context, project: &ProjectView, env: &EnvironmentView) -> Result<Vec<ReleaseView>, Failure> {
    super::projects::all(|paging| ctx.ws.releases(&project.id, Some(&env.id), paging)).await
}

/// The release that served before the active one: the latest activated other than it (if
/// retention pruned its files, the server says so rather than this picking an older one).
fn previous(items: &[ReleaseView]) -> Option<&ReleaseView> {
    items
        .iter()
        .filter(|r| r.status != "active")
        .filter_map(|r| Some((r.activated_at?, r)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str, status: &str, activated: Option<&str>) -> ReleaseView {
        serde_json::from_value(json!({
            "id": format!("rel_{version}"), "version": version, "projectId": "prj_1",
            "environmentId": "env_1", "deploymentId": null, "commitSha": "abc", "status": status,
            "rollbackOf": null, "secretVersions": [], "attachments": [], "droppedAttachments": [], "preDeploy": null,
            "artifactAvailable": true,
            "createdAt": "2026-01-01T00:00:00Z", "activatedAt": activated,
        }))
        .expect("a release as the API shows it")
    }

    #[test]
    fn the_previous_release_is_the_one_active_before_the_current() {
        let items = vec![
            release("v3", "active", Some("2026-01-03T00:00:00Z")),
            release("v2", "inactive", Some("2026-01-02T00:00:00Z")),
            release("v1", "inactive", Some("2026-01-01T00:00:00Z")),
            release("v4", "inactive", None),
        ];
        assert_eq!(previous(&items).map(|r| r.version.as_str()), Some("v2"));
        assert!(previous(&items[..1]).is_none());
    }
}
