//! `logs`: a deployment's build log, or an environment's runtime or access log, printed or followed.

use super::args::LogsArgs;
use super::context::Context;
use super::failure::Failure;
use super::output;
use serde_json::Value;
use shipyard_client::Follow;

/// Prints the log `args` names (JSON lines with `--json`).
pub async fn run(ctx: &Context, args: LogsArgs) -> Result<(), Failure> {
    // (the page route, the stream route)
    let (pages, stream) = if args.runtime || args.access {
        let (project, env) = ctx.environment(&args.target).await?;
        let (p, e) = (output::text(&project["id"]), output::text(&env["id"]));
        if args.access {
            let base = format!("/projects/{p}/environments/{e}/access-logs");
            (base.clone(), format!("{base}/stream"))
        } else {
            let runtime = ctx.get(&format!("/projects/{p}/environments/{e}/runtime")).await?;
            match runtime["activeRelease"]["id"].as_str() {
                Some(release) => {
                    let base = format!("/releases/{release}/runtime-logs");
                    (base.clone(), format!("{base}/stream"))
                }
                None => {
                    return Err(Failure::Api {
                        status: 404,
                        message: format!(
                            "{} has no active release, so no runtime log",
                            output::text(&env["slug"])
                        ),
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
            format!("/deployments/{deployment}/logs"),
            format!("/deployments/{deployment}/stream"),
        )
    };
    if args.follow {
        let mut follow = Follow::new(&ctx.client, format!("/tenants/{}{stream}", ctx.tenant));
        while let Some(frame) = follow.next().await? {
            if frame["type"] == "log" {
                print_item(ctx, &frame);
            }
        }
        return Ok(());
    }
    let mut after = 0;
    loop {
        let page = ctx.get(&format!("{pages}?after={after}&limit=10000")).await?;
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
    let list = ctx
        .get(&format!(
            "/projects/{}/deployments?environmentId={}&perPage=1",
            output::text(&project["id"]),
            output::text(&env["id"])
        ))
        .await?;
    list["items"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::Api {
            status: 404,
            message: format!("{} has no deployments yet", output::text(&env["slug"])),
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
