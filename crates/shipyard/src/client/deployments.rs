//! `deployments list|show|cancel|retry`.

use super::args::DeploymentsCommand;
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use shipyard_client::Paging;

/// `deployments …`.
pub async fn run(ctx: &Context, command: DeploymentsCommand) -> Result<(), Failure> {
    let one = match command {
        DeploymentsCommand::List(target) => {
            let (project, env) = ctx.environment(&target).await?;
            let list = ctx
                .ws
                .deployments(&project.id, Some(&env.id), Paging::first(100))
                .await?;
            output::list(
                ctx.json,
                &list.items,
                &["REF", "STATUS", "BRANCH", "COMMIT", "RELEASE", "CREATED"],
                |d| {
                    vec![
                        text(&d.reference),
                        text(&d.status),
                        text(&d.branch),
                        text(&d.commit_sha).chars().take(8).collect(),
                        text(&d.release.as_ref().map(|r| &r.version)),
                        ago(&d.created_at),
                    ]
                },
            );
            return Ok(());
        }
        DeploymentsCommand::Show { deployment } => ctx.ws.deployment(&deployment).await?,
        DeploymentsCommand::Retry { deployment } => ctx.ws.retry(&deployment).await?,
        DeploymentsCommand::Cancel { deployment } => ctx.ws.cancel(&deployment).await?,
    };
    if ctx.json {
        output::json(&one);
    } else {
        println!("{} {} ({})", text(&one.reference), text(&one.status), text(&one.id));
        if let Some(error) = &one.error {
            println!("error: {}", text(error));
        }
    }
    Ok(())
}
