//! `projects detect|create|delete`: the writes of `projects`, each all or nothing (a connection
//! made for a project that then could not be created is removed again).

use super::args::Source;
use super::context::Context;
use super::failure::Failure;
use super::output::{self, text};
use serde_json::json;
use shipyard_client::types::connections::{CreateConnectionRequest, Provider};
use shipyard_client::types::projects::{CreateProjectRequest, DetectRequest, DetectResponse};
use shipyard_core::ProjectType;

/// A connection to use and whether this command made it (so it can be undone).
struct Connection {
    id: String,
    made_here: bool,
}

async fn connection(ctx: &Context, source: &Source) -> Result<Connection, Failure> {
    match (&source.connection, &source.repo) {
        (Some(id), _) => Ok(Connection {
            id: id.clone(),
            made_here: false,
        }),
        (None, Some(url)) => {
            let req = CreateConnectionRequest {
                name: None,
                provider: Provider::Git,
                url: url.clone(),
                default_branch: None,
                auth: None,
            };
            let made = ctx.ws.create_connection(&req).await?;
            Ok(Connection {
                id: made.id,
                made_here: true,
            })
        }
        (None, None) => Err(Failure::Usage(
            "name the repository with --repo URL or --connection rc_…".into(),
        )),
    }
}

/// Removes a connection this command made (best effort: the command already failed).
async fn undo(ctx: &Context, connection: &Connection) {
    if connection.made_here {
        let _ = ctx.ws.delete_connection(&connection.id).await;
    }
}

async fn suggest(ctx: &Context, connection: &Connection, source: &Source) -> Result<DetectResponse, Failure> {
    let req = DetectRequest {
        repository_connection_id: connection.id.clone(),
        branch: source.branch.clone(),
        root_directory: source.root_directory.clone(),
    };
    Ok(ctx.ws.detect(&req).await?)
}

/// `projects detect`: the suggestion; a connection made for it is removed afterwards.
pub async fn detect(ctx: &Context, source: &Source) -> Result<(), Failure> {
    let connection = connection(ctx, source).await?;
    let suggestion = suggest(ctx, &connection, source).await;
    undo(ctx, &connection).await;
    let suggestion = suggestion?;
    if ctx.json {
        output::json(&suggestion);
        return Ok(());
    }
    let found = &suggestion.detection;
    println!(
        "{} ({}, confidence {})",
        text(&found.project_type),
        text(&found.framework),
        text(&found.confidence)
    );
    for (field, value) in [
        ("installCommand", &found.install_command),
        ("buildCommand", &found.build_command),
        ("startCommand", &found.start_command),
        ("outputDirectory", &found.output_directory),
    ] {
        println!("  {field}: {}", text(value));
    }
    println!("  packageManager: {}", text(&found.package_manager));
    for why in &found.evidence {
        println!("  - {}", text(why));
    }
    Ok(())
}

/// `projects create`.
pub async fn create(ctx: &Context, name: &str, source: &Source, kind: Option<&str>) -> Result<(), Failure> {
    // Checked before anything is made: a wrong `--type` is the command line's mistake.
    let kind = kind
        .map(|k| serde_json::from_value::<ProjectType>(json!(k)).map_err(|e| Failure::Usage(format!("--type: {e}"))))
        .transpose()?;
    let connection = connection(ctx, source).await?;
    let made = async {
        let project_type = match kind {
            Some(k) => k,
            None => suggest(ctx, &connection, source)
                .await?
                .detection
                .project_type
                .ok_or_else(|| {
                    Failure::Usage("nothing recognisable in the repository: name its type with --type".into())
                })?,
        };
        let req = CreateProjectRequest {
            name: name.to_owned(),
            project_type,
            repository_connection_id: connection.id.clone(),
            description: None,
            root_directory: source.root_directory.clone(),
            production_branch: source.branch.clone(),
            runs_server: None,
            config: None,
        };
        Ok::<_, Failure>(ctx.ws.create_project(&req).await?)
    }
    .await;
    let project = match made {
        Ok(project) => project,
        Err(e) => {
            undo(ctx, &connection).await;
            return Err(e);
        }
    };
    if ctx.json {
        output::json(&project);
    } else {
        println!(
            "Created {} ({}, {}); `shipyard deploy --project {}` puts it live at {}",
            text(&project.slug),
            text(&project.id),
            text(&project.project_type),
            text(&project.slug),
            text(&project.environments.first().map(|e| &e.url))
        );
    }
    Ok(())
}

/// `projects delete`.
pub async fn delete(ctx: &Context, wanted: &str, yes: bool) -> Result<(), Failure> {
    if !yes {
        return Err(Failure::Usage(format!(
            "deleting {wanted} stops its apps and removes its history: run again with --yes"
        )));
    }
    let project = ctx.project_named(wanted).await?;
    ctx.ws.delete_project(&project.id).await?;
    if ctx.json {
        output::json(&json!({ "deleted": project.id }));
    } else {
        println!("Deleted {}.", text(&project.slug));
    }
    Ok(())
}
