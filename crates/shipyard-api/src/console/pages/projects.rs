//! A project's page: its environments with their live URL, status and active release and a
//! Deploy button each; its deployments and releases (each with Rollback); and the runtime log of
//! production's active release, live.

use super::auth::TokenForm;
use crate::console::Console;
use crate::console::page::{Chrome, Shows};
use crate::console::shown::{ShownLine, short, shown_lines};
use crate::console::visitor::{Ids, Visitor};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect};
use serde_json::json;
use shipyard_api_types::deployments::{DeploymentView, ReleaseView};
use shipyard_api_types::logs::LogPage;
use shipyard_api_types::paging::List;
use shipyard_api_types::projects::{EnvironmentView, ProjectView};
use shipyard_api_types::runtime::RuntimeView;
use shipyard_core::ReleaseId;
use shipyard_store::logs::runtime_stream;

/// Lines of the runtime log the page starts with (the script follows from there).
const TAIL_LINES: i64 = 200;

struct Env {
    view: EnvironmentView,
    runtime: RuntimeView,
}

struct RuntimeLog {
    stream: String,
    after: i64,
    lines: Vec<ShownLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    csrf: String,
    tenant: String,
    project: ProjectView,
    environments: Vec<Env>,
    deployments: Vec<DeploymentView>,
    releases: Vec<ReleaseView>,
    log: Option<RuntimeLog>,
}

impl ProjectPage {
    fn short<'a>(&self, sha: &'a str) -> &'a str {
        short(sha)
    }

    fn env_name(&self, id: &str) -> &str {
        self.environments
            .iter()
            .find(|e| e.view.id == id)
            .map_or("", |e| e.view.name.as_str())
    }
}

/// `GET /app/<tenant>/projects/<project>`
pub async fn project(
    State(console): State<Console>,
    visitor: Visitor,
    Ids((tenant, id)): Ids<(String, String)>,
) -> Shows {
    let framed = |e| visitor.framed(&tenant, e);
    let base = format!("/tenants/{tenant}/projects/{id}");
    let project: ProjectView = visitor.call.get(&base).await.map_err(|r| framed(r.into()))?;
    let mut environments = Vec::new();
    for view in &project.environments {
        let runtime: RuntimeView = visitor
            .call
            .get(&format!("{base}/environments/{}/runtime", view.id))
            .await
            .map_err(|r| framed(r.into()))?;
        environments.push(Env {
            view: view.clone(),
            runtime,
        });
    }
    let deployments: List<DeploymentView> = visitor
        .call
        .get(&format!("{base}/deployments?perPage=20"))
        .await
        .map_err(|r| framed(r.into()))?;
    let releases: List<ReleaseView> = visitor
        .call
        .get(&format!("{base}/releases?perPage=20"))
        .await
        .map_err(|r| framed(r.into()))?;
    let serving = environments.first().and_then(|e| e.runtime.active_release.clone());
    let log = match serving.filter(|_| project.runs_server) {
        Some(release) => Some(
            runtime_log(&console, &visitor, &tenant, &release.id)
                .await
                .map_err(framed)?,
        ),
        None => None,
    };
    let page = ProjectPage {
        chrome: visitor.chrome(&tenant),
        csrf: visitor.csrf(),
        tenant,
        project,
        environments,
        deployments: deployments.items,
        releases: releases.items,
        log,
    };
    Ok(page.into_response())
}

/// The newest lines of a release's runtime log (the API checked the release is the visitor's
/// when it named it as active).
async fn runtime_log(
    console: &Console,
    visitor: &Visitor,
    tenant: &str,
    release: &str,
) -> Result<RuntimeLog, crate::console::page::Shown> {
    let id = ReleaseId::parse(release).map_err(crate::error::ApiError::from)?;
    let last = console
        .app
        .logs
        .last_seq(&runtime_stream(&id))
        .await
        .map_err(crate::error::ApiError::from)?;
    let after = (last - TAIL_LINES).max(0);
    let stream = format!("/tenants/{tenant}/releases/{release}/runtime-logs");
    let page: LogPage = visitor
        .call
        .get(&format!("{stream}?after={after}&limit={TAIL_LINES}"))
        .await?;
    Ok(RuntimeLog {
        after: page.last_seq,
        lines: shown_lines(&page),
        stream: format!("{stream}/stream"),
    })
}

/// `POST /app/<tenant>/projects/<project>/environments/<environment>/deploy`: the API's
/// trigger, then the deployment's page.
pub async fn deploy(
    visitor: Visitor,
    Ids((tenant, project, environment)): Ids<(String, String, String)>,
    form: Result<axum::Form<TokenForm>, FormRejection>,
) -> Shows {
    let form = super::form(form)?;
    visitor.check(form.csrf.as_deref())?;
    let path = format!("/tenants/{tenant}/projects/{project}/environments/{environment}/deployments");
    let answer = visitor
        .call
        .post::<_, DeploymentView>(&path, &json!({}))
        .await
        .map_err(|r| visitor.framed(&tenant, r.into()))?;
    Ok(Redirect::to(&format!("/app/{tenant}/deployments/{}", answer.body.id)).into_response())
}
