//! `projects list|show|create|detect|delete`, and paging through any list.

use super::args::ProjectsCommand;
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use serde_json::Value;

/// `projects …`.
pub async fn projects(ctx: &Context, command: ProjectsCommand) -> Result<(), Failure> {
    match command {
        ProjectsCommand::List => {
            let items = all(ctx, "/projects").await?;
            output::list(ctx.json, &items, &["SLUG", "NAME", "TYPE", "STATUS", "UPDATED"], |p| {
                vec![
                    text(&p["slug"]),
                    text(&p["name"]),
                    text(&p["type"]),
                    text(&p["status"]),
                    ago(&p["updatedAt"]),
                ]
            });
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
        ProjectsCommand::Detect(source) => return super::project_setup::detect(ctx, &source).await,
        ProjectsCommand::Create { name, source, kind } => {
            return super::project_setup::create(ctx, &name, &source, kind.as_deref()).await;
        }
        ProjectsCommand::Delete { project, yes } => return super::project_setup::delete(ctx, &project, yes).await,
    }
    Ok(())
}

/// Every item of a paged list.
pub(super) async fn all(ctx: &Context, path: &str) -> Result<Vec<Value>, Failure> {
    let mut items = Vec::new();
    for page in 1.. {
        let joiner = if path.contains('?') { '&' } else { '?' };
        let list = ctx.get(&format!("{path}{joiner}perPage=100&page={page}")).await?;
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
