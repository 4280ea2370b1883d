//! `deployments list|show|cancel|retry`.

use super::args::DeploymentsCommand;
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use serde_json::json;

/// `deployments …`.
pub async fn run(ctx: &Context, command: DeploymentsCommand) -> Result<(), Failure> {
    let one = match command {
        DeploymentsCommand::List(target) => {
            let (project, env) = ctx.environment(&target).await?;
            let list = ctx
                .get(&format!(
                    "/projects/{}/deployments?environmentId={}&perPage=100",
                    text(&project["id"]),
                    text(&env["id"])
                ))
                .await?;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            output::list(
                ctx.json,
                &items,
                &["REF", "STATUS", "BRANCH", "COMMIT", "RELEASE", "CREATED"],
                |d| {
                    vec![
                        text(&d["ref"]),
                        text(&d["status"]),
                        text(&d["branch"]),
                        text(&d["commitSha"]).chars().take(8).collect(),
                        text(&d["release"]["version"]),
                        ago(&d["createdAt"]),
                    ]
                },
            );
            return Ok(());
        }
        DeploymentsCommand::Show { deployment } => ctx.get(&format!("/deployments/{deployment}")).await?,
        DeploymentsCommand::Retry { deployment } => {
            ctx.post(&format!("/deployments/{deployment}/retry"), &json!({}))
                .await?
        }
        DeploymentsCommand::Cancel { deployment } => {
            ctx.post(&format!("/deployments/{deployment}/cancel"), &json!({}))
                .await?
        }
    };
    if ctx.json {
        output::json(&one);
    } else {
        println!("{} {} ({})", text(&one["ref"]), text(&one["status"]), text(&one["id"]));
        if !one["error"].is_null() {
            println!("error: {}", text(&one["error"]));
        }
    }
    Ok(())
}
