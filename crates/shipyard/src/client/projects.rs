//! `projects list|show`, `deployments list|show|cancel` and `open`: reading what the API holds.

use super::args::{DeploymentsCommand, ProjectsCommand, Target};
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use serde_json::{Value, json};

/// `projects …`.
pub async fn projects(ctx: &Context, command: ProjectsCommand) -> Result<(), Failure> {
    match command {
        ProjectsCommand::List => {
            let items = all(ctx, "/projects").await?;
            if ctx.json {
                output::json(&Value::Array(items));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|p| {
                    vec![
                        text(&p["slug"]),
                        text(&p["name"]),
                        text(&p["type"]),
                        text(&p["status"]),
                        ago(&p["updatedAt"]),
                    ]
                })
                .collect();
            output::table(&["SLUG", "NAME", "TYPE", "STATUS", "UPDATED"], &rows);
        }
        ProjectsCommand::Show { project } => {
            let p = ctx.project_named(&project).await?;
            if ctx.json {
                output::json(&p);
                return Ok(());
            }
            println!(
                "{} ({}) {} {}",
                text(&p["name"]),
                text(&p["id"]),
                text(&p["type"]),
                text(&p["status"])
            );
            let rows: Vec<Vec<String>> = p["environments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| vec![text(&e["slug"]), text(&e["branch"]), text(&e["url"])])
                .collect();
            output::table(&["ENVIRONMENT", "BRANCH", "URL"], &rows);
        }
    }
    Ok(())
}

/// `deployments …`.
pub async fn deployments(ctx: &Context, command: DeploymentsCommand) -> Result<(), Failure> {
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
            if ctx.json {
                output::json(&Value::Array(items));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|d| {
                    vec![
                        text(&d["ref"]),
                        text(&d["status"]),
                        text(&d["branch"]),
                        text(&d["commitSha"]).chars().take(8).collect(),
                        text(&d["release"]["version"]),
                        ago(&d["createdAt"]),
                    ]
                })
                .collect();
            output::table(&["REF", "STATUS", "BRANCH", "COMMIT", "RELEASE", "CREATED"], &rows);
            return Ok(());
        }
        DeploymentsCommand::Show { deployment } => ctx.get(&format!("/deployments/{deployment}")).await?,
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

/// Every item of a paged list.
async fn all(ctx: &Context, path: &str) -> Result<Vec<Value>, Failure> {
    let mut items = Vec::new();
    for page in 1.. {
        let list = ctx.get(&format!("{path}?perPage=100&page={page}")).await?;
        let got = list["items"].as_array().cloned().unwrap_or_default();
        let total = list["total"].as_u64().unwrap_or(0);
        let done = got.is_empty() || items.len() + got.len() >= usize::try_from(total).unwrap_or(usize::MAX);
        items.extend(got);
        if done {
            break;
        }
    }
    Ok(items)
}
