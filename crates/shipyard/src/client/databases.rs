//! `databases list|create|show|start|stop|delete|attach|detach|rotate-password|url|connect`; `backups` has a
//! file of its own.

use super::args::Target;
use super::context::Context;
use super::database_args::{AttachTarget, DatabasesCommand};
use super::failure::Failure;
use super::output::{self, ago, text};
use super::projects::all;
use serde_json::json;
use shipyard_client::types::databases::{
    AttachDatabaseRequest, AttachmentChange, CreateDatabaseRequest, DatabaseLimitsRequest, DatabaseView,
    DetachDatabaseRequest, RotatePasswordRequest,
};
use shipyard_core::ExposeSecret;

/// `databases …`.
pub async fn run(ctx: &Context, command: DatabasesCommand) -> Result<(), Failure> {
    match command {
        DatabasesCommand::List => {
            let items = all(|paging| ctx.ws.databases(paging)).await?;
            output::list(
                ctx.json,
                &items,
                &["NAME", "STATUS", "VERSION", "PORT", "CREATED"],
                |d| {
                    vec![
                        text(&d.name),
                        text(&d.status),
                        text(&d.version),
                        text(&d.port),
                        ago(&d.created_at),
                    ]
                },
            );
        }
        DatabasesCommand::Create {
            name,
            version,
            memory_mb,
            disk_mb,
        } => {
            let req = CreateDatabaseRequest {
                name,
                engine: "postgres".to_owned(),
                version,
                limits: Some(DatabaseLimitsRequest { memory_mb, disk_mb }),
            };
            let made = ctx.ws.create_database(&req).await?;
            if ctx.json {
                output::json(&made);
            } else {
                println!(
                    "Creating {} ({}); `shipyard databases show {}` says when it runs.",
                    text(&made.name),
                    text(&made.id),
                    text(&made.name)
                );
            }
        }
        DatabasesCommand::Show { database } => show(ctx, &named(ctx, &database).await?),
        DatabasesCommand::Start { database } => {
            let found = named(ctx, &database).await?;
            show(ctx, &ctx.ws.database_action(&found.id, "start").await?);
        }
        DatabasesCommand::Stop { database } => {
            let found = named(ctx, &database).await?;
            show(ctx, &ctx.ws.database_action(&found.id, "stop").await?);
        }
        DatabasesCommand::Delete { database } => {
            let found = named(ctx, &database).await?;
            ctx.ws.delete_database(&found.id).await?;
            if ctx.json {
                output::json(&json!({ "deleted": found }));
            } else {
                println!("Deleted {}.", text(&found.name));
            }
        }
        DatabasesCommand::Attach { database, to, env_var } => {
            let found = named(ctx, &database).await?;
            let (project_id, environment_id) = attach_target(ctx, &to).await?;
            let req = AttachDatabaseRequest {
                project_id,
                environment_id,
                env_var,
            };
            let change = ctx.ws.attach_database(&found.id, &req, to.redeploy).await?;
            changed(ctx, &change, &format!("Attached {}", text(&found.name)));
        }
        DatabasesCommand::Detach { database, to } => {
            let found = named(ctx, &database).await?;
            let (project_id, environment_id) = attach_target(ctx, &to).await?;
            let req = DetachDatabaseRequest {
                project_id,
                environment_id,
            };
            let change = ctx.ws.detach_database(&found.id, &req, to.redeploy).await?;
            changed(ctx, &change, &format!("Detached {}", text(&found.name)));
        }
        DatabasesCommand::Backups { command } => super::database_backups::run(ctx, command).await?,
        DatabasesCommand::Connect { database, port } => {
            let found = named(ctx, &database).await?;
            super::tunnel::connect(ctx, &found, port).await?;
        }
        DatabasesCommand::RotatePassword {
            database,
            grace_seconds,
            redeploy,
        } => {
            let found = named(ctx, &database).await?;
            let req = RotatePasswordRequest { grace_seconds };
            let rotated = ctx.ws.rotate_database_password(&found.id, &req, redeploy).await?;
            if ctx.json {
                output::json(&rotated);
            } else {
                println!(
                    "Rotated {}: it now logs in as {}; the old password works until {}.",
                    text(&found.name),
                    text(&rotated.database.username),
                    rotated.previous_valid_until.to_rfc3339()
                );
                println!("{}.", text(&rotated.takes_effect));
                for id in &rotated.deployments {
                    println!("  queued {}", text(id));
                }
            }
        }
        DatabasesCommand::Url {
            database,
            show_password,
        } => {
            if !show_password {
                return Err(Failure::Usage(
                    "the URL holds the database's password: add --show-password to print it".to_owned(),
                ));
            }
            let found = named(ctx, &database).await?;
            let connection = ctx.ws.database_connection(&found.id).await?;
            println!("{}", connection.url.expose_secret());
        }
    }
    Ok(())
}

fn show(ctx: &Context, d: &DatabaseView) {
    if ctx.json {
        output::json(d);
        return;
    }
    println!("{} ({})", text(&d.name), text(&d.id));
    println!("  status    {}", text(&d.status));
    println!("  engine    {} {}", text(&d.engine), text(&d.version));
    println!("  address   {}:{}", text(&d.host), d.port);
    println!("  database  {} (role {})", text(&d.database_name), text(&d.username));
    println!(
        "  limits    {} MiB memory, {} MiB disk",
        d.limits.memory_mb, d.limits.disk_mb
    );
    for a in &d.attachments {
        let env = a.environment_id.as_deref().unwrap_or("every environment");
        println!("  attached  {} ({env}) as {}", text(&a.project_id), text(&a.env_var));
    }
    if let Some(error) = &d.error {
        println!("  error     {}", text(error));
    }
    if let Some(exit) = &d.last_exit_reason {
        println!("  last exit {}", text(exit));
    }
}

/// The project (and environment) `to` names, as ids.
async fn attach_target(ctx: &Context, to: &AttachTarget) -> Result<(String, Option<String>), Failure> {
    let target = Target {
        project: to.project.clone(),
        env: to.env.clone().unwrap_or_default(),
    };
    if to.env.is_none() {
        return Ok((ctx.project(&target).await?.id, None));
    }
    let (project, env) = ctx.environment(&target).await?;
    Ok((project.id, Some(env.id)))
}

/// An attach or a detach, said.
fn changed(ctx: &Context, change: &AttachmentChange, done: &str) {
    if ctx.json {
        output::json(change);
        return;
    }
    println!("{done}: {}.", text(&change.takes_effect));
    for id in &change.deployments {
        println!("  queued {}", text(id));
    }
}

/// The database named `name` (or with that id).
pub async fn named(ctx: &Context, name: &str) -> Result<DatabaseView, Failure> {
    let items = all(|paging| ctx.ws.databases(paging)).await?;
    items
        .into_iter()
        .find(|d| d.name == name || d.id == name)
        .ok_or_else(|| Failure::Api {
            status: 404,
            message: format!("no database {name} in this workspace (`shipyard databases list` shows them)"),
        })
}
