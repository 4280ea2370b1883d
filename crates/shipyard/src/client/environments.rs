//! `env list|create` and `open`: a project's environments and their live URLs.

use super::args::{EnvCommand, Target};
use super::context::Context;
use super::failure::Failure;
use super::output::{self, text};
use serde_json::json;
use shipyard_client::types::projects::CreateEnvironmentRequest;
use std::io::IsTerminal;

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
            output::list(
                ctx.json,
                &project.environments,
                &["SLUG", "NAME", "BRANCH", "URL"],
                |e| vec![text(&e.slug), text(&e.name), text(&e.branch), text(&e.url)],
            );
        }
        EnvCommand::Create { name, branch, project } => {
            let project = ctx
                .project(&Target {
                    project,
                    env: String::new(),
                })
                .await?;
            let made = ctx
                .ws
                .create_environment(&project.id, &CreateEnvironmentRequest { name, branch })
                .await?;
            if ctx.json {
                output::json(&made);
            } else {
                println!(
                    "Created {} on {}: {}",
                    text(&made.slug),
                    text(&made.branch),
                    text(&made.url)
                );
            }
        }
    }
    Ok(())
}

/// `open`: the environment's live URL.
pub async fn open(ctx: &Context, target: &Target) -> Result<(), Failure> {
    let (project, env) = ctx.environment(target).await?;
    let runtime = ctx.ws.runtime(&project.id, &env.id).await?;
    if ctx.json {
        output::json(&json!({ "urls": runtime.urls, "status": runtime.status }));
        return Ok(());
    }
    let url = text(&runtime.urls.first());
    println!("{url}");
    let desktop = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    if desktop && output::interactive() && std::io::stdout().is_terminal() {
        launch(&url);
    }
    Ok(())
}

/// Opens `url` in the desktop's browser, if it is a web address and a browser answers; the
/// URL is already printed, so a machine without one loses nothing.
fn launch(url: &str) {
    let Some(web) = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return;
    };
    if let Err(e) = open::that_detached(web.as_str()) {
        eprintln!("(no browser opened: {})", output::printable(&e.to_string()));
    }
}
