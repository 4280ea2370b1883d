//! What a command talks to: the server and token (flags, environment, stored login), the
//! workspace, and the project and environment it names (flags or `shipyard.toml`).

use super::args::{Global, Target};
use super::credentials;
use super::failure::Failure;
use serde::Deserialize;
use shipyard_client::types::account::MeResponse;
use shipyard_client::types::projects::{EnvironmentView, ProjectView};
use shipyard_client::{Client, Paging, Workspace};
use std::path::{Path, PathBuf};

/// Where a fresh `shipyard serve` listens.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// An authenticated client in one workspace.
pub struct Context {
    /// The client, holding the token.
    pub client: Client,
    /// The workspace's calls.
    pub ws: Workspace,
    /// Machine output wanted.
    pub json: bool,
}

/// The server a command talks to: `--server`/`SHIPYARD_URL`, else the stored login's.
pub fn server(global: &Global, stored: Option<&credentials::Stored>) -> String {
    global
        .server
        .clone()
        .or_else(|| stored.map(|s| s.server.clone()))
        .unwrap_or_else(|| DEFAULT_SERVER.to_owned())
        .trim_end_matches('/')
        .to_owned()
}

impl Context {
    /// Signs in with `SHIPYARD_TOKEN` or the stored login (only for the server it was made
    /// for, so a token never goes to another server) and picks the workspace.
    pub async fn open(global: &Global) -> Result<Self, Failure> {
        let stored = credentials::load()?;
        let server = server(global, stored.as_ref());
        let token = match std::env::var("SHIPYARD_TOKEN").ok().filter(|t| !t.is_empty()) {
            Some(token) => token,
            None => match &stored {
                Some(s) if s.server.trim_end_matches('/') == server => s.token.clone(),
                Some(s) => {
                    return Err(Failure::Api {
                        status: 401,
                        message: format!(
                            "logged in to {} only; run `shipyard login --server {server}` or set SHIPYARD_TOKEN",
                            s.server
                        ),
                    });
                }
                None => {
                    return Err(Failure::Api {
                        status: 401,
                        message: "not logged in: run `shipyard login` or set SHIPYARD_TOKEN".into(),
                    });
                }
            },
        };
        let client = Client::new(server).with_token(token);
        let me = client.me().await?;
        let ws = client.workspace(workspace(&me, global.workspace.as_deref())?);
        Ok(Self {
            client,
            ws,
            json: global.json,
        })
    }

    /// The project `target` names (flag, else shipyard.toml), as `GET …/projects/<p>` shows it.
    pub async fn project(&self, target: &Target) -> Result<ProjectView, Failure> {
        let wanted = match &target.project {
            Some(p) => p.clone(),
            None => manifest_project(&std::env::current_dir().map_err(|e| Failure::Other(e.to_string()))?)?,
        };
        self.project_named(&wanted).await
    }

    /// A project by id or slug.
    pub async fn project_named(&self, wanted: &str) -> Result<ProjectView, Failure> {
        if wanted.starts_with("prj_") {
            return Ok(self.ws.project(wanted).await?);
        }
        let mut paging = Paging::first(100);
        loop {
            let list = self.ws.projects(Some(wanted), paging).await?;
            if let Some(found) = list.items.iter().find(|p| p.slug == wanted) {
                return Ok(self.ws.project(&found.id).await?);
            }
            if list.items.len() < 100 {
                return Err(Failure::Api {
                    status: 404,
                    message: format!("no project `{wanted}` in this workspace (`shipyard projects list` shows them)"),
                });
            }
            paging = paging.next();
        }
    }

    /// The project and its environment named by `target`.
    pub async fn environment(&self, target: &Target) -> Result<(ProjectView, EnvironmentView), Failure> {
        let project = self.project(target).await?;
        let found = project
            .environments
            .iter()
            .find(|e| e.id == target.env || e.slug == target.env)
            .cloned();
        match found {
            Some(env) => Ok((project, env)),
            None => {
                let names: Vec<&str> = project.environments.iter().map(|e| e.slug.as_str()).collect();
                Err(Failure::Api {
                    status: 404,
                    message: format!(
                        "project {} has no environment `{}` (it has: {})",
                        project.slug,
                        target.env,
                        names.join(", ")
                    ),
                })
            }
        }
    }
}

/// The workspace `wanted` names (id or slug), else the first membership.
fn workspace(me: &MeResponse, wanted: Option<&str>) -> Result<String, Failure> {
    let found = match wanted {
        Some(w) => me.memberships.iter().find(|m| m.tenant_id == w || m.tenant_slug == w),
        None => me.memberships.first(),
    };
    found.map(|m| m.tenant_id.clone()).ok_or_else(|| Failure::Api {
        status: 403,
        message: match wanted {
            Some(w) => format!("you are not a member of a workspace `{w}`"),
            None => "you are not a member of any workspace".into(),
        },
    })
}

/// `shipyard.toml`: what `shipyard deploy` needs to know without flags.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// The project's id or slug.
    project: String,
}

/// The project `shipyard.toml` names, looked for from `dir` up to the repository's root.
fn manifest_project(dir: &Path) -> Result<String, Failure> {
    let no_project = || {
        Failure::Usage(
            "no project: pass --project, or add `project = \"<slug>\"` to shipyard.toml in the repository".into(),
        )
    };
    let mut here: Option<PathBuf> = Some(dir.to_path_buf());
    while let Some(d) = here {
        let path = d.join("shipyard.toml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let manifest: Manifest =
                toml::from_str(&text).map_err(|e| Failure::Usage(format!("{}: {}", path.display(), e.message())))?;
            return Ok(manifest.project);
        }
        if d.join(".git").exists() {
            return Err(no_project());
        }
        here = d.parent().map(Path::to_path_buf);
    }
    Err(no_project())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipyard_toml_is_found_up_to_the_repository_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).expect("repo");
        std::fs::create_dir_all(repo.join("web/src")).expect("dirs");
        assert!(matches!(
            manifest_project(&repo.join("web/src")),
            Err(Failure::Usage(_))
        ));
        std::fs::write(repo.join("shipyard.toml"), "project = \"web\"\n").expect("write");
        assert_eq!(manifest_project(&repo.join("web/src")).expect("found"), "web");
        std::fs::write(repo.join("shipyard.toml"), "projet = \"web\"\n").expect("write");
        let typo = manifest_project(&repo).expect_err("unknown key");
        assert!(typo.to_string().contains("projet"), "{typo}");
    }
}
