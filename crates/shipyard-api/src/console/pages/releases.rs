//! Rollback: a confirmation page (a form, so it needs no JavaScript), then the API's rollback.

use crate::console::page::{Chrome, Shown, Shows};
use crate::console::shown::short;
use crate::console::visitor::{Ids, Visitor};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::json;
use shipyard_api_types::deployments::ReleaseView;
use shipyard_api_types::paging::List;
use shipyard_api_types::projects::ProjectView;

#[derive(Template, WebTemplate)]
#[template(path = "rollback.html")]
struct ConfirmPage {
    chrome: Chrome,
    csrf: String,
    tenant: String,
    project: ProjectView,
    release: ReleaseView,
    environment: String,
    commit: String,
    error: Option<String>,
}

/// The project and the release of a rollback path, through the API (404 for either unknown).
async fn load(
    visitor: &Visitor,
    tenant: &str,
    project: &str,
    release: &str,
) -> Result<(ProjectView, ReleaseView), Shown> {
    let base = format!("/tenants/{tenant}/projects/{project}");
    let view: ProjectView = visitor.call.get(&base).await?;
    // Releases are listed newest first; a rollback target is one of the kept ones.
    for page in 1..=10 {
        let list: List<ReleaseView> = visitor
            .call
            .get(&format!("{base}/releases?perPage=100&page={page}"))
            .await?;
        if let Some(found) = list.items.iter().find(|r| r.id == release) {
            return Ok((view, found.clone()));
        }
        if list.items.len() < 100 {
            break;
        }
    }
    Err(Shown::Error(
        StatusCode::NOT_FOUND,
        format!("release {release} not found in project {project}"),
        None,
    ))
}

async fn page(visitor: &Visitor, tenant: String, project: &str, release: &str, error: Option<String>) -> Shows {
    let (project, release) = load(visitor, &tenant, project, release)
        .await
        .map_err(|e| visitor.framed(&tenant, e))?;
    let environment = project
        .environments
        .iter()
        .find(|e| e.id == release.environment_id)
        .map_or_else(String::new, |e| e.name.clone());
    let status = if error.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    let page = ConfirmPage {
        chrome: visitor.chrome(&tenant),
        csrf: visitor.csrf(),
        tenant,
        commit: short(&release.commit_sha).to_owned(),
        project,
        release,
        environment,
        error,
    };
    Ok((status, page).into_response())
}

/// `GET …/releases/<release>/rollback`: are you sure?
pub async fn confirm(visitor: Visitor, Ids((tenant, project, release)): Ids<(String, String, String)>) -> Shows {
    page(&visitor, tenant, &project, &release, None).await
}

/// The confirmation form.
#[derive(Debug, Deserialize)]
pub struct RollbackForm {
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `POST …/releases/<release>/rollback`: the API's rollback, then the project's page.
pub async fn rollback(
    visitor: Visitor,
    Ids((tenant, project, release)): Ids<(String, String, String)>,
    form: Result<axum::Form<RollbackForm>, FormRejection>,
) -> Shows {
    let form = super::form(form)?;
    visitor.check(form.csrf.as_deref())?;
    // The release must be the project's: the answer leads to the project's page.
    load(&visitor, &tenant, &project, &release)
        .await
        .map_err(|e| visitor.framed(&tenant, e))?;
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let body = json!({ "releaseId": release, "reason": reason });
    match visitor
        .call
        .post::<_, ReleaseView>(&format!("/tenants/{tenant}/rollback"), &body)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/app/{tenant}/projects/{project}")).into_response()),
        Err(r) if matches!(r.status.as_u16(), 409 | 422) => {
            page(&visitor, tenant, &project, &release, Some(r.message)).await
        }
        Err(r) => Err(visitor.framed(&tenant, r.into())),
    }
}
