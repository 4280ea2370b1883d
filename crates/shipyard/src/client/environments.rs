//! `env list|create` and `open`: a project's environments and their live URLs.

use super::args::{EnvCommand, Target};
use super::context::Context;
use super::failure::Failure;
use super::output::{self, text};
use serde_json::json;

/// `env …`.
pub async fn run(ctx: &Context, command: EnvCommand) -> Result<(), Failure> {
    match command {
        EnvCommand::List { project } => {
            let project = ctx
                .project(&Target {
                    project,
                    env: String::new(),
                })
                .await?;
            let envs = project["environments"].as_array().cloned().unwrap_or_default();
            output::list(ctx.json, &envs, &["SLUG", "NAME", "BRANCH", "URL"], |e| {
                vec![text(&e["slug"]), text(&e["name"]), text(&e["branch"]), text(&e["url"])]
            });
        }
        EnvCommand::Create { name, branch, project } => {
            let project = ctx
                .project(&Target {
                    project,
                    env: String::new(),
                })
                .await?;
            let made = ctx
                .post(
                    &format!("/projects/{}/environments", text(&project["id"])),
                    &json!({ "name": name, "branch": branch }),
                )
                .await?;
            if ctx.json {
                output::json(&made);
            } else {
                println!(
                    "Created {} on {}: {}",
                    text(&made["slug"]),
                    text(&made["branch"]),
                    text(&made["url"])
                );
            }
        }
    }
    Ok(())
}

/// `open`: the environment's live URL.
pub async fn open(ctx: &Context, target: &Target) -> Result<(), Failure> {
    let (project, env) = ctx.environment(target).await?;
    let runtime = ctx
        .get(&format!(
            "/projects/{}/environments/{}/runtime",
            text(&project["id"]),
            text(&env["id"])
        ))
        .await?;
    if ctx.json {
        output::json(&json!({ "urls": runtime["urls"], "status": runtime["status"] }));
    } else {
        println!("{}", text(&runtime["urls"][0]));
    }
    Ok(())
}
