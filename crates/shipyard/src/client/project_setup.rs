//! `projects detect|create|delete`: the writes of `projects`, each all or nothing (a connection
//! made for a project that then could not be created is removed again).

use super::args::Source;
use super::context::Context;
use super::failure::Failure;
use super::output::{self, text};
use serde_json::{Value, json};

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
            let made = ctx
                .post("/repository-connections", &json!({ "provider": "git", "url": url }))
                .await?;
            Ok(Connection {
                id: text(&made["id"]),
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
        let path = format!("/tenants/{}/repository-connections/{}", ctx.tenant, connection.id);
        let _ = ctx.client.delete(&path).await;
    }
}

async fn suggest(ctx: &Context, connection: &Connection, source: &Source) -> Result<Value, Failure> {
    let mut body = json!({ "repositoryConnectionId": connection.id });
    if let Some(branch) = &source.branch {
        body["branch"] = json!(branch);
    }
    if let Some(root) = &source.root_directory {
        body["rootDirectory"] = json!(root);
    }
    ctx.post("/projects/detect", &body).await
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
    println!(
        "{} ({}, confidence {})",
        text(&suggestion["type"]),
        text(&suggestion["framework"]),
        text(&suggestion["confidence"])
    );
    for field in [
        "installCommand",
        "buildCommand",
        "startCommand",
        "outputDirectory",
        "packageManager",
    ] {
        println!("  {field}: {}", text(&suggestion[field]));
    }
    for why in suggestion["evidence"].as_array().into_iter().flatten() {
        println!("  - {}", text(why));
    }
    Ok(())
}

/// `projects create`.
pub async fn create(ctx: &Context, name: &str, source: &Source, kind: Option<&str>) -> Result<(), Failure> {
    let connection = connection(ctx, source).await?;
    let made = async {
        let kind = match kind {
            Some(k) => k.to_owned(),
            None => text(&suggest(ctx, &connection, source).await?["type"]),
        };
        let mut body = json!({ "name": name, "type": kind, "repositoryConnectionId": connection.id });
        if let Some(branch) = &source.branch {
            body["productionBranch"] = json!(branch);
        }
        if let Some(root) = &source.root_directory {
            body["rootDirectory"] = json!(root);
        }
        ctx.post("/projects", &body).await
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
            text(&project["slug"]),
            text(&project["id"]),
            text(&project["type"]),
            text(&project["slug"]),
            text(&project["environments"][0]["url"])
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
    let path = format!("/tenants/{}/projects/{}", ctx.tenant, text(&project["id"]));
    ctx.client.delete(&path).await?.ok()?;
    if ctx.json {
        output::json(&json!({ "deleted": project["id"] }));
    } else {
        println!("Deleted {}.", text(&project["slug"]));
    }
    Ok(())
}
