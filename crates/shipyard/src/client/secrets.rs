//! `secrets list|set|unset`: values come from stdin or a file, never from an argument, so they
//! stay out of shell history and `ps`.

use super::args::{SecretScope, SecretsCommand};
use super::context::Context;
use super::failure::Failure;
use super::output::{self, ago, text};
use serde_json::json;
use shipyard_client::types::Secret;
use shipyard_client::types::secrets::{CreateSecretRequest, SecretView, UpdateSecretRequest};
use shipyard_core::SecretScope as Scope;
use std::io::Read;

/// `secrets …`.
pub async fn run(ctx: &Context, command: SecretsCommand) -> Result<(), Failure> {
    match command {
        SecretsCommand::List { scope } => {
            let (filter, _) = resolve(ctx, &scope).await?;
            let items = listed(ctx, &filter).await?;
            output::list(ctx.json, &items, &["NAME", "SCOPE", "VERSION", "UPDATED"], |s| {
                vec![text(&s.name), text(&s.scope), text(&s.version), ago(&s.updated_at)]
            });
        }
        SecretsCommand::Set { name, scope, from_file } => {
            let value = read_value(from_file.as_deref())?;
            let (filter, target) = resolve(ctx, &scope).await?;
            let existing = listed(ctx, &filter).await?.into_iter().find(|s| s.name == name);
            let value = Secret::new(value);
            let saved = match existing {
                Some(secret) => ctx.ws.update_secret(&secret.id, &UpdateSecretRequest { value }).await?,
                None => {
                    let req = CreateSecretRequest {
                        name,
                        value,
                        scope: target.scope,
                        project_id: target.project_id,
                        environment_id: target.environment_id,
                    };
                    ctx.ws.create_secret(&req).await?
                }
            };
            if ctx.json {
                output::json(&saved);
            } else {
                println!(
                    "Set {} ({} scope, version {}).",
                    text(&saved.name),
                    text(&saved.scope),
                    text(&saved.version)
                );
            }
        }
        SecretsCommand::Unset { name, scope } => {
            let (filter, _) = resolve(ctx, &scope).await?;
            let Some(secret) = listed(ctx, &filter).await?.into_iter().find(|s| s.name == name) else {
                return Err(Failure::Api {
                    status: 404,
                    message: format!("no secret {name} in that scope (`shipyard secrets list` shows them)"),
                });
            };
            ctx.ws.delete_secret(&secret.id).await?;
            if ctx.json {
                output::json(&json!({ "deleted": secret }));
            } else {
                println!("Unset {name}.");
            }
        }
    }
    Ok(())
}

/// The list filter and the create body's scope fields for `--project`/`--env` (neither: the
/// workspace; `--env` alone: that environment of shipyard.toml's project).
async fn resolve(ctx: &Context, scope: &SecretScope) -> Result<(String, Target), Failure> {
    let target = super::args::Target {
        project: scope.project.clone(),
        env: scope.env.clone().unwrap_or_else(|| "production".into()),
    };
    if scope.env.is_some() {
        let (_, env) = ctx.environment(&target).await?;
        return Ok((
            format!("scope=environment&environmentId={}", env.id),
            Target {
                scope: Scope::Environment,
                project_id: None,
                environment_id: Some(env.id),
            },
        ));
    }
    if scope.project.is_some() {
        let project = ctx.project(&target).await?;
        return Ok((
            format!("scope=project&projectId={}", project.id),
            Target {
                scope: Scope::Project,
                project_id: Some(project.id),
                environment_id: None,
            },
        ));
    }
    let workspace = Target {
        scope: Scope::Workspace,
        project_id: None,
        environment_id: None,
    };
    Ok(("scope=workspace".into(), workspace))
}

/// Where a new secret goes: its scope and the project or environment that scope names.
struct Target {
    scope: Scope,
    project_id: Option<String>,
    environment_id: Option<String>,
}

/// Every secret matching `filter`.
async fn listed(ctx: &Context, filter: &str) -> Result<Vec<SecretView>, Failure> {
    super::projects::all(|paging| ctx.ws.secrets(filter, paging)).await
}

/// The value: the whole file, or all of stdin, without one trailing newline.
fn read_value(file: Option<&std::path::Path>) -> Result<String, Failure> {
    let mut value = String::new();
    let read = match file {
        Some(path) => std::fs::read_to_string(path)
            .map(|v| value = v)
            .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display()))),
        None => std::io::stdin()
            .read_to_string(&mut value)
            .map(drop)
            .map_err(|e| Failure::Usage(format!("cannot read the value from stdin: {e}"))),
    };
    read?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}
