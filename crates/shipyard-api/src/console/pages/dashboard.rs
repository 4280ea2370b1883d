//! The first screen: what needs attention, then every project with its status, live URL,
//! active release and last deploy. Read in a handful of queries whatever the number of
//! projects (the API would take one request per project), with the API's own rules: the scope
//! comes from `Auth`, statuses from `api::runtime::serving`.

use crate::api::projects::live_url;
use crate::api::runtime::serving;
use crate::console::Console;
use crate::console::page::{Chrome, Shown, Shows};
use crate::console::visitor::{Ids, Visitor};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use shipyard_core::deployment::deployment_ref;
use shipyard_core::{DeploymentStatus, ProjectStatus};
use shipyard_store::{Backend, Deployments, Environments, Page, ProjectFilter, Projects, Releases};
use std::collections::HashMap;

/// Projects per dashboard page.
const PER_PAGE: u32 = 50;

/// `GET /app`: the visitor's first workspace.
pub async fn first_workspace(visitor: Visitor) -> Shows {
    match visitor.memberships.first() {
        Some(m) => Ok(Redirect::to(&format!("/app/{}", m.tenant_id)).into_response()),
        None => Err(Shown::Error(
            axum::http::StatusCode::NOT_FOUND,
            "you are not a member of any workspace; ask a workspace owner to add you".to_owned(),
            Some(visitor.chrome("")),
        )),
    }
}

/// `?tenant=` of the workspace switcher.
#[derive(Debug, Deserialize)]
pub struct Switch {
    tenant: Option<String>,
}

/// `GET /app/switch?tenant=`: the switcher's form without JavaScript.
pub async fn switch(visitor: Visitor, Query(to): Query<Switch>) -> Shows {
    let known = to
        .tenant
        .filter(|t| visitor.memberships.iter().any(|m| &m.tenant_id == t));
    // Only a workspace of the visitor's: the switcher is no way to send anyone elsewhere.
    let to = known.map_or_else(|| "/app".to_owned(), |t| format!("/app/{t}"));
    Ok(Redirect::to(&to).into_response())
}

struct LastDeploy {
    id: String,
    reference: String,
    status: String,
    when: String,
}

struct Row {
    id: String,
    name: String,
    kind: String,
    url: String,
    serving: &'static str,
    release: Option<String>,
    last: Option<LastDeploy>,
}

struct Attention {
    what: &'static str,
    project: String,
    link: String,
    text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    tenant: String,
    attention: Vec<Attention>,
    rows: Vec<Row>,
    total: i64,
    page: u32,
    pages: u32,
}

/// `?page=`
#[derive(Debug, Deserialize)]
pub struct PageNumber {
    page: Option<u32>,
}

/// `GET /app/<tenant>`
pub async fn dashboard(
    State(console): State<Console>,
    visitor: Visitor,
    Ids(tenant): Ids<String>,
    Query(at): Query<PageNumber>,
) -> Shows {
    let scope = visitor
        .scope(&console, &tenant)
        .await
        .map_err(|e| visitor.framed(&tenant, e))?;
    let page = Page {
        page: at.page.unwrap_or(1).max(1),
        per_page: PER_PAGE,
    };
    let state = &console.app;
    let mut tx = state.store.read().await?;
    let projects = tx.list_projects(&scope, &ProjectFilter::default(), page).await?;
    let environments = tx.workspace_environments(&scope).await?;
    let latest = tx.latest_deployments(&scope).await?;
    let active: HashMap<_, _> = tx
        .active_releases(&scope)
        .await?
        .into_iter()
        .map(|r| (r.environment_id.clone(), r))
        .collect();
    let names: HashMap<_, _> = projects.items.iter().map(|p| (p.id.clone(), p)).collect();
    let mut attention = Vec::new();
    for d in latest.iter().filter(|d| d.status == DeploymentStatus::Failed) {
        let Some(project) = names.get(&d.project_id) else {
            continue;
        };
        let env = environments.iter().find(|e| e.id == d.environment_id);
        let rolled_back = tx
            .deployment_events(&scope, &d.id)
            .await?
            .iter()
            .any(|e| e.kind == "auto_rollback");
        attention.push(Attention {
            what: if rolled_back {
                "rolled back automatically"
            } else {
                "deploy failed"
            },
            project: format!("{} / {}", project.name, env.map_or("", |e| e.name.as_str())),
            link: format!("/app/{tenant}/deployments/{}", d.id),
            text: format!(
                "{}: {}",
                deployment_ref(d.number),
                d.error.as_deref().unwrap_or("no reason recorded")
            ),
        });
    }
    let mut rows = Vec::with_capacity(projects.items.len());
    for project in &projects.items {
        let runs = project.status == ProjectStatus::Active;
        // Each environment's status, read once from the edge's table: for attention, and the
        // production one for the row.
        let own: Vec<_> = environments
            .iter()
            .filter(|e| e.project_id == project.id)
            .map(|env| {
                let host = state.runtime.host(&env.host_label, scope.tenant_slug().as_str());
                (env, serving(state, &host, runs).status, host)
            })
            .collect();
        for (env, status, host) in &own {
            if active.contains_key(&env.id) && matches!(*status, "crashed" | "degraded") {
                attention.push(Attention {
                    what: status,
                    project: format!("{} / {}", project.name, env.name),
                    link: format!("/app/{tenant}/projects/{}", project.id),
                    text: format!("the app at {host} is {status}"),
                });
            }
        }
        let Some(&(production, status, _)) = own.iter().find(|(e, _, _)| e.is_production).or(own.first()) else {
            continue;
        };
        let last = latest
            .iter()
            .filter(|d| d.project_id == project.id)
            .max_by_key(|d| d.number)
            .map(|d| LastDeploy {
                id: d.id.to_string(),
                reference: deployment_ref(d.number),
                status: d.status.as_str().to_owned(),
                when: d.created_at.format("%Y-%m-%d %H:%M").to_string(),
            });
        rows.push(Row {
            id: project.id.to_string(),
            name: project.name.clone(),
            kind: project.project_type.as_str().to_owned(),
            url: live_url(state, &scope, production),
            serving: status,
            release: active.get(&production.id).map(|r| format!("v{}", r.version)),
            last,
        });
    }
    let pages =
        u32::try_from((projects.total.max(1) + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE)).unwrap_or(u32::MAX);
    let page = DashboardPage {
        chrome: visitor.chrome(&tenant),
        tenant,
        attention,
        rows,
        total: projects.total,
        page: page.page,
        pages,
    };
    Ok(page.into_response())
}
