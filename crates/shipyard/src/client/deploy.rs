//! `deploy`: trigger, stream the build log, wait for the result, print the live URL.

use super::args::DeployArgs;
use super::context::Context;
use super::failure::Failure;
use super::output;
use super::progress::Progress;
use serde_json::json;
use shipyard_client::Follow;
use shipyard_client::types::deployments::{DeploymentView, TriggerRequest};
use shipyard_client::types::projects::{EnvironmentView, ProjectView};
use shipyard_core::DeploymentStatus;
use tokio::time::Instant;

/// Deploys and, unless `--no-wait`, waits for the deployment to end.
pub async fn run(ctx: &Context, args: DeployArgs) -> Result<(), Failure> {
    let timeout =
        crate::config::values::duration("timeout", &args.timeout).map_err(|e| Failure::Usage(e.to_string()))?;
    let (project, env) = ctx.environment(&args.target).await?;
    let req = TriggerRequest {
        branch: args.branch.clone(),
        note: args.note.clone(),
        ..TriggerRequest::default()
    };
    let deployment = ctx.ws.deploy(&project.id, &env.id, &req).await?;
    let reference = output::text(&deployment.reference);
    if args.no_wait {
        if ctx.json {
            output::json(&deployment);
        } else {
            println!(
                "{reference} {} ({})",
                output::text(&deployment.status),
                output::text(&deployment.id)
            );
        }
        return Ok(());
    }
    eprintln!(
        "Deploying {}/{} as {reference} ({})",
        output::text(&project.slug),
        output::text(&env.slug),
        output::text(&deployment.id)
    );
    let deadline = Instant::now() + timeout;
    let status = output::text(&deployment.status);
    let waited = tokio::time::timeout_at(deadline, stream_build(ctx, &deployment.id, &status));
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
async fn stream_build(ctx: &Context, id: &str, status: &str) -> Result<DeploymentView, Failure> {
    let mut follow = Follow::new(&ctx.client, ctx.ws.deployment_stream(id));
    let progress = Progress::start(status);
    while let Some(frame) = follow.next().await? {
        match frame["type"].as_str() {
            Some("log") => progress.log(&output::text(&frame["line"])),
            Some("status") => progress.status(&output::text(&frame["status"])),
            _ => {}
        }
    }
    drop(progress);
    Ok(ctx.ws.deployment(id).await?)
}

/// Turns the ended deployment into the command's result: the live URL on stdout when ready.
async fn finish(
    ctx: &Context,
    deployment: &DeploymentView,
    project: &ProjectView,
    env: &EnvironmentView,
) -> Result<(), Failure> {
    let reference = output::text(&deployment.reference);
    match deployment.status {
        DeploymentStatus::Ready => {
            let runtime = ctx.ws.runtime(&project.id, &env.id).await?;
            let url = runtime.urls.first();
            if ctx.json {
                output::json(&json!({ "deployment": deployment, "url": url }));
            } else {
                eprintln!("{reference} is live.");
                println!("{}", output::text(&url));
            }
            Ok(())
        }
        DeploymentStatus::Canceled => Err(Failure::Canceled(reference)),
        _ => {
            if ctx.json {
                output::json(&json!({ "deployment": deployment, "url": null }));
            }
            Err(Failure::DeployFailed {
                reference,
                error: output::text(&deployment.error),
            })
        }
    }
}
