//! `projects list|show|create|detect|delete`, and paging through any list.

use super::args::ProjectsCommand;
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use shipyard_client::types::paging::List;
use shipyard_client::{ClientError, Paging};
use std::future::Future;

/// `projects …`.
pub async fn projects(ctx: &Context, command: ProjectsCommand) -> Result<(), Failure> {
    match command {
        ProjectsCommand::List => {
            let items = all(|paging| ctx.ws.projects(None, paging)).await?;
            output::list(ctx.json, &items, &["SLUG", "NAME", "TYPE", "STATUS", "UPDATED"], |p| {
                vec![
                    text(&p.slug),
                    text(&p.name),
                    text(&p.project_type),
                    text(&p.status),
                    ago(&p.updated_at),
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
                text(&p.name),
                text(&p.id),
                text(&p.project_type),
                text(&p.status)
            );
            let rows: Vec<Vec<String>> = p
                .environments
                .iter()
                .map(|e| vec![text(&e.slug), text(&e.branch), text(&e.url)])
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

/// Every item of a paged list, `page` fetching one page.
pub(super) async fn all<T, F>(page: impl Fn(Paging) -> F) -> Result<Vec<T>, Failure>
where
    F: Future<Output = Result<List<T>, ClientError>>,
{
    let mut items = Vec::new();
    let mut paging = Paging::first(100);
    loop {
        let list = page(paging).await?;
        let total = usize::try_from(list.total).unwrap_or(usize::MAX);
        let done = list.items.is_empty() || items.len() + list.items.len() >= total;
        items.extend(list.items);
        if done {
            return Ok(items);
        }
        paging = paging.next();
    }
}
