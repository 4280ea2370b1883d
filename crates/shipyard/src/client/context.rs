//! What a command talks to: the server and token (flags, environment, stored login), the
//! workspace, and the project and environment it names (flags or `shipyard.toml`).

use super::args::{Global, Target};
use super::credentials;
use super::failure::Failure;
use serde::Deserialize;
use serde_json::Value;
use shipyard_client::Client;
use std::path::{Path, PathBuf};

/// Where a fresh `shipyard serve` listens.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// An authenticated client in one workspace.
pub struct Context {
    /// The client, holding the token.
    pub client: Client,
    /// `ten_…`
    pub tenant: String,
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
        let tenant = workspace(&me, global.workspace.as_deref())?;
        Ok(Self {
            client,
            tenant,
            json: global.json,
        })
    }

    /// `GET /tenants/<t>{rest}`, the body of a 2xx.
    pub async fn get(&self, rest: &str) -> Result<Value, Failure> {
        Ok(self
            .client
            .get(&format!("/tenants/{}{rest}", self.tenant))
            .await?
            .ok()?)
    }

    /// `POST /tenants/<t>{rest}`, the body of a 2xx.
    pub async fn post(&self, rest: &str, body: &Value) -> Result<Value, Failure> {
        Ok(self
            .client
            .post(&format!("/tenants/{}{rest}", self.tenant), body)
            .await?
            .ok()?)
    }

    /// The project `target` names (flag, else shipyard.toml), as `GET …/projects/<p>` shows it.
    pub async fn project(&self, target: &Target) -> Result<Value, Failure> {
        let wanted = match &target.project {
            Some(p) => p.clone(),
            None => manifest_project(&std::env::current_dir().map_err(|e| Failure::Other(e.to_string()))?)?,
        };
        self.project_named(&wanted).await
    }

    /// A project by id or slug.
    pub async fn project_named(&self, wanted: &str) -> Result<Value, Failure> {
        if wanted.starts_with("prj_") {
            return self.get(&format!("/projects/{wanted}")).await;
        }
        let mut page = 1;
        loop {
            let list = self
                .get(&format!("/projects?search={}&perPage=100&page={page}", encode(wanted)))
                .await?;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            if let Some(found) = items.iter().find(|p| p["slug"] == wanted) {
                let id = found["id"].as_str().unwrap_or_default();
                return self.get(&format!("/projects/{id}")).await;
            }
            if items.len() < 100 {
                return Err(Failure::Api {
                    status: 404,
                    message: format!("no project `{wanted}` in this workspace (`shipyard projects list` shows them)"),
                });
            }
            page += 1;
        }
    }

    /// The project and its environment named by `target`.
    pub async fn environment(&self, target: &Target) -> Result<(Value, Value), Failure> {
        let project = self.project(target).await?;
        let envs = project["environments"].as_array().cloned().unwrap_or_default();
        let found = envs
            .iter()
            .find(|e| e["id"] == target.env.as_str() || e["slug"] == target.env.as_str())
            .cloned();
        match found {
            Some(env) => Ok((project, env)),
            None => {
                let names: Vec<&str> = envs.iter().filter_map(|e| e["slug"].as_str()).collect();
                Err(Failure::Api {
                    status: 404,
                    message: format!(
                        "project {} has no environment `{}` (it has: {})",
                        project["slug"].as_str().unwrap_or_default(),
                        target.env,
                        names.join(", ")
                    ),
                })
            }
        }
    }
}

/// The workspace `wanted` names (id or slug), else the first membership.
fn workspace(me: &Value, wanted: Option<&str>) -> Result<String, Failure> {
    let memberships = me["memberships"].as_array().cloned().unwrap_or_default();
    let found = match wanted {
        Some(w) => memberships.iter().find(|m| m["tenantId"] == w || m["tenantSlug"] == w),
        None => memberships.first(),
    };
    found
        .and_then(|m| m["tenantId"].as_str())
        .map(str::to_owned)
        .ok_or_else(|| Failure::Api {
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

/// `text` as one query value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
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

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("my app&x=1"), "my+app%26x%3D1");
    }
}
