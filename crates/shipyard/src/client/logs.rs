//! `logs`: a deployment's build log, or an environment's runtime or access log, printed or followed.

use super::args::LogsArgs;
use super::context::Context;
use super::failure::Failure;
use super::output;
use serde_json::Value;
use shipyard_client::{Follow, Paging};

/// Prints the log `args` names (JSON lines with `--json`).
pub async fn run(ctx: &Context, args: LogsArgs) -> Result<(), Failure> {
    // (the page route, the stream route)
    let (pages, stream) = if args.runtime || args.access {
        let (project, env) = ctx.environment(&args.target).await?;
        if args.access {
            let base = format!(
                "{}/access-logs",
                shipyard_client::paths::environment(ctx.ws.id(), &project.id, &env.id)
            );
            (base.clone(), format!("{base}/stream"))
        } else {
            let runtime = ctx.ws.runtime(&project.id, &env.id).await?;
            match runtime.active_release {
                Some(release) => {
                    let base = ctx.ws.runtime_logs(&release.id);
                    (base.clone(), format!("{base}/stream"))
                }
                None => {
                    return Err(Failure::Api {
                        status: 404,
                        message: format!("{} has no active release, so no runtime log", output::text(&env.slug)),
                    });
                }
            }
        }
    } else {
        let deployment = match args.deployment {
            Some(d) => d,
            None => latest_deployment(ctx, &args).await?,
        };
        (
            format!("{}/logs", shipyard_client::paths::deployment(ctx.ws.id(), &deployment)),
            ctx.ws.deployment_stream(&deployment),
        )
    };
    if args.follow {
        let mut follow = Follow::new(&ctx.client, stream);
        while let Some(frame) = follow.next().await? {
            if frame["type"] == "log" {
                print_item(ctx, &frame);
            }
        }
        return Ok(());
    }
    let mut after = 0;
    loop {
        // Build, runtime and access pages differ in their items; each item prints as it came.
        let page = ctx
            .client
            .get(&format!("{pages}?after={after}&limit=10000"))
            .await?
            .ok()?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for item in &items {
            print_item(ctx, item);
        }
        match items.last().and_then(|i| i["seq"].as_u64()) {
            Some(last) if last > after => after = last,
            _ => return Ok(()),
        }
    }
}

/// The newest deployment of the target environment.
async fn latest_deployment(ctx: &Context, args: &LogsArgs) -> Result<String, Failure> {
    let (project, env) = ctx.environment(&args.target).await?;
    let list = ctx.ws.deployments(&project.id, Some(&env.id), Paging::first(1)).await?;
    list.items.into_iter().next().map(|d| d.id).ok_or_else(|| Failure::Api {
        status: 404,
        message: format!("{} has no deployments yet", output::text(&env.slug)),
    })
}

/// One log line: the JSON item itself, or its text (an access entry as a request line).
fn print_item(ctx: &Context, item: &Value) {
    if ctx.json {
        println!("{item}");
    } else if item["line"].is_string() {
        println!("{}", output::text(&item["line"]));
    } else {
        println!(
            "{} {} {} {}{} {}ms",
            output::text(&item["at"]),
            output::text(&item["status"]),
            output::text(&item["method"]),
            output::text(&item["host"]),
            output::text(&item["path"]),
            output::text(&item["durationMs"])
        );
    }
}
