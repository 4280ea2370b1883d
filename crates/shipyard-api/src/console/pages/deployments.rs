//! A deployment's page: its status, the failing step and its exit code at the top when it
//! failed, its timeline, and its build log — whole when it has ended, followed live by the
//! script while it runs (and refreshed every few seconds without JavaScript).

use crate::console::page::{Chrome, Shows};
use crate::console::shown::{ShownLine, short, shown_lines};
use crate::console::visitor::{Ids, Visitor};
use askama::Template;
use askama_web::WebTemplate;
use axum::response::IntoResponse;
use shipyard_api_types::deployments::DeploymentView;
use shipyard_api_types::logs::LogPage;
use shipyard_api_types::projects::ProjectView;

/// Lines of the build log a page shows (the API's largest page).
const LOG_LINES: u32 = 10_000;

#[derive(Template, WebTemplate)]
#[template(path = "deployment.html")]
struct DeploymentPage {
    chrome: Chrome,
    tenant: String,
    deployment: DeploymentView,
    project: ProjectView,
    environment: String,
    live_url: Option<String>,
    commit: String,
    running: bool,
    stream: String,
    logs: String,
    after: i64,
    more: bool,
    lines: Vec<ShownLine>,
}

/// `GET /app/<tenant>/deployments/<deployment>`
pub async fn deployment(visitor: Visitor, Ids((tenant, id)): Ids<(String, String)>) -> Shows {
    let framed = |e| visitor.framed(&tenant, e);
    let base = format!("/tenants/{tenant}/deployments/{id}");
    let deployment: DeploymentView = visitor.call.get(&base).await.map_err(|r| framed(r.into()))?;
    let log: LogPage = visitor
        .call
        .get(&format!("{base}/logs?limit={LOG_LINES}"))
        .await
        .map_err(|r| framed(r.into()))?;
    let project: ProjectView = visitor
        .call
        .get(&format!("/tenants/{tenant}/projects/{}", deployment.project_id))
        .await
        .map_err(|r| framed(r.into()))?;
    let env = project.environments.iter().find(|e| e.id == deployment.environment_id);
    let ready = deployment.status == shipyard_core::DeploymentStatus::Ready;
    let running = !deployment.status.is_terminal();
    let page = DeploymentPage {
        chrome: visitor.chrome(&tenant),
        environment: env.map_or_else(String::new, |e| e.name.clone()),
        live_url: env.filter(|_| ready).map(|e| e.url.clone()),
        commit: deployment
            .commit_sha
            .as_deref()
            .map(short)
            .unwrap_or_default()
            .to_owned(),
        running,
        stream: format!("{base}/stream"),
        logs: format!("{base}/logs"),
        after: log.last_seq,
        more: !log.done && !running,
        lines: shown_lines(&log),
        tenant,
        deployment,
        project,
    };
    Ok(page.into_response())
}
