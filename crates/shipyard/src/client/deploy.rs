//! `deploy`: trigger, stream the build log, wait for the result, print the live URL.

use super::args::DeployArgs;
use super::context::Context;
use super::failure::Failure;
use super::output;
use super::progress::Progress;
use serde_json::{Value, json};
use shipyard_client::Follow;
use tokio::time::Instant;

/// Deploys and, unless `--no-wait`, waits for the deployment to end.
pub async fn run(ctx: &Context, args: DeployArgs) -> Result<(), Failure> {
    let timeout =
        crate::config::values::duration("timeout", &args.timeout).map_err(|e| Failure::Usage(e.to_string()))?;
    let (project, env) = ctx.environment(&args.target).await?;
    let mut body = json!({});
    if let Some(branch) = &args.branch {
        body["branch"] = json!(branch);
    }
    if let Some(note) = &args.note {
        body["note"] = json!(note);
    }
    let path = format!(
        "/projects/{}/environments/{}/deployments",
        output::text(&project["id"]),
        output::text(&env["id"])
    );
    let deployment = ctx.post(&path, &body).await?;
    let reference = output::text(&deployment["ref"]);
    if args.no_wait {
        if ctx.json {
            output::json(&deployment);
        } else {
            println!(
                "{reference} {} ({})",
                output::text(&deployment["status"]),
                output::text(&deployment["id"])
            );
        }
        return Ok(());
    }
    eprintln!(
        "Deploying {}/{} as {reference} ({})",
        output::text(&project["slug"]),
        output::text(&env["slug"]),
        output::text(&deployment["id"])
    );
    let id = output::text(&deployment["id"]);
    let deadline = Instant::now() + timeout;
    let status = output::text(&deployment["status"]);
    let waited = tokio::time::timeout_at(deadline, stream_build(ctx, &id, &status));
    let finished = tokio::select! {
        ended = waited => match ended {
            Ok(result) => result?,
            Err(_) => return Err(Failure::GaveUp(format!("{} ({reference} goes on)", args.timeout))),
        },
        // Dropping the wait clears the status line; the deployment itself goes on.
        _ = tokio::signal::ctrl_c() => return Err(Failure::Interrupted(reference)),
    };
    finish(ctx, &finished, &project, &env).await
}

/// Prints the build log and status changes on stderr until the stream's `done`; then the
/// deployment as it ended.
async fn stream_build(ctx: &Context, id: &str, status: &str) -> Result<Value, Failure> {
    let mut follow = Follow::new(&ctx.client, format!("/tenants/{}/deployments/{id}/stream", ctx.tenant));
    let progress = Progress::start(status);
    while let Some(frame) = follow.next().await? {
        match frame["type"].as_str() {
            Some("log") => progress.log(&output::text(&frame["line"])),
            Some("status") => progress.status(&output::text(&frame["status"])),
            _ => {}
        }
    }
    drop(progress);
    ctx.get(&format!("/deployments/{id}")).await
}

/// Turns the ended deployment into the command's result: the live URL on stdout when ready.
async fn finish(ctx: &Context, deployment: &Value, project: &Value, env: &Value) -> Result<(), Failure> {
    let reference = output::text(&deployment["ref"]);
    match deployment["status"].as_str() {
        Some("ready") => {
            let runtime = ctx
                .get(&format!(
                    "/projects/{}/environments/{}/runtime",
                    output::text(&project["id"]),
                    output::text(&env["id"])
                ))
                .await?;
            let url = runtime["urls"][0].clone();
            if ctx.json {
                output::json(&json!({ "deployment": deployment, "url": url }));
            } else {
                eprintln!("{reference} is live.");
                println!("{}", output::text(&url));
            }
            Ok(())
        }
        Some("canceled") => Err(Failure::Canceled(reference)),
        _ => {
            if ctx.json {
                output::json(&json!({ "deployment": deployment, "url": null }));
            }
            Err(Failure::DeployFailed {
                reference,
                error: output::text(&deployment["error"]),
            })
        }
    }
}
