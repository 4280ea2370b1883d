//! "New project": a repository (a URL or a connection the workspace has), what detection found
//! in it — type, commands, framework, evidence, confidence — corrected by the visitor, then the
//! project. Each step is the API's: connect, detect, create.

use crate::console::call::Refusal;
use crate::console::page::{Chrome, Shows};
use crate::console::visitor::{Ids, Visitor};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use shipyard_api_types::connections::ConnectionView;
use shipyard_api_types::paging::List;
use shipyard_api_types::projects::{DetectResponse, ProjectView};

/// The types a project can have, in the order the form offers them.
const TYPES: [&str; 4] = ["static", "react", "node", "python"];

struct Connection {
    id: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "new_project.html")]
struct StartPage {
    chrome: Chrome,
    csrf: String,
    tenant: String,
    connections: Vec<Connection>,
    form: StartForm,
    error: Option<String>,
}

/// The first step's form.
#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    csrf: Option<String>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    connection: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    root: String,
}

/// The second step's form: detection's findings as the visitor corrected them.
#[derive(Debug, Default, Deserialize)]
pub struct ProjectForm {
    csrf: Option<String>,
    #[serde(default)]
    connection: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    branch: String,
    #[serde(default)]
    root: String,
    #[serde(default)]
    install: String,
    #[serde(default)]
    build: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    output: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "detect.html")]
struct DetectPage {
    chrome: Chrome,
    csrf: String,
    tenant: String,
    types: [&'static str; 4],
    form: ProjectForm,
    framework: Option<String>,
    evidence: Vec<String>,
    confidence: Option<u32>,
    commit: Option<String>,
    error: Option<String>,
}

async fn connections(visitor: &Visitor, tenant: &str) -> Result<Vec<ConnectionView>, Refusal> {
    let path = format!("/tenants/{tenant}/repository-connections?perPage=100");
    Ok(visitor.call.get::<List<ConnectionView>>(&path).await?.items)
}

async fn start_page(visitor: &Visitor, tenant: String, form: StartForm, error: Option<String>) -> Shows {
    let connections = connections(visitor, &tenant)
        .await?
        .into_iter()
        .map(|c| Connection {
            label: format!("{} ({})", c.name, c.url),
            id: c.id,
        })
        .collect();
    let status = error_status(error.as_ref());
    let page = StartPage {
        chrome: visitor.chrome(&tenant),
        csrf: visitor.csrf(),
        tenant,
        connections,
        form,
        error,
    };
    Ok((status, page).into_response())
}

fn error_status(error: Option<&String>) -> axum::http::StatusCode {
    if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    }
}

/// `GET /app/<tenant>/new`
pub async fn start(visitor: Visitor, Ids(tenant): Ids<String>) -> Shows {
    start_page(&visitor, tenant, StartForm::default(), None).await
}

/// The repository's name from its URL, as a first guess at the project's.
fn name_from_url(url: &str) -> String {
    let last = url.trim_end_matches('/').rsplit(['/', ':']).next().unwrap_or_default();
    last.strip_suffix(".git").unwrap_or(last).to_owned()
}

/// The connection the form names, or the workspace's connection of its URL, or a new one.
async fn connection_for(visitor: &Visitor, tenant: &str, form: &StartForm) -> Result<ConnectionView, Refusal> {
    let known = connections(visitor, tenant).await?;
    if !form.connection.is_empty() {
        return known.into_iter().find(|c| c.id == form.connection).ok_or(Refusal {
            status: axum::http::StatusCode::NOT_FOUND,
            message: format!("repository connection {} not found", form.connection),
        });
    }
    let url = form.url.trim();
    if let Some(existing) = known.into_iter().find(|c| c.url == url) {
        return Ok(existing);
    }
    let body = json!({ "provider": "git", "url": url });
    let path = format!("/tenants/{tenant}/repository-connections");
    Ok(visitor.call.post::<_, ConnectionView>(&path, &body).await?.body)
}

/// `POST /app/<tenant>/new/detect`: connect (or reuse) the repository and show what detection found.
pub async fn detect(
    visitor: Visitor,
    Ids(tenant): Ids<String>,
    form: Result<axum::Form<StartForm>, FormRejection>,
) -> Shows {
    let form = super::form(form)?;
    visitor.check(form.csrf.as_deref())?;
    let connection = match connection_for(&visitor, &tenant, &form).await {
        Ok(c) => c,
        Err(r) if r.status.is_client_error() && r.status.as_u16() != 401 => {
            return start_page(&visitor, tenant, form, Some(r.message)).await;
        }
        Err(r) => return Err(visitor.framed(&tenant, r.into())),
    };
    let mut body = Map::new();
    body.insert("repositoryConnectionId".into(), json!(connection.id));
    for (key, value) in [("branch", &form.branch), ("rootDirectory", &form.root)] {
        if !value.trim().is_empty() {
            body.insert(key.into(), json!(value.trim()));
        }
    }
    let path = format!("/tenants/{tenant}/projects/detect");
    let found = match visitor
        .call
        .post::<_, DetectResponse>(&path, &Value::Object(body))
        .await
    {
        Ok(answer) => answer.body,
        Err(r) if r.status.is_client_error() && r.status.as_u16() != 401 => {
            return start_page(&visitor, tenant, form, Some(r.message)).await;
        }
        Err(r) => return Err(visitor.framed(&tenant, r.into())),
    };
    let d = found.detection;
    let page = DetectPage {
        chrome: visitor.chrome(&tenant),
        csrf: visitor.csrf(),
        tenant,
        types: TYPES,
        form: ProjectForm {
            csrf: None,
            name: name_from_url(&connection.url),
            connection: connection.id,
            kind: d.project_type.map_or("static", |t| t.as_str()).to_owned(),
            branch: found.branch,
            root: form.root.trim().to_owned(),
            install: d.install_command.unwrap_or_default(),
            build: d.build_command.unwrap_or_default(),
            start: d.start_command.unwrap_or_default(),
            output: d.output_directory.unwrap_or_default(),
        },
        framework: d.framework,
        evidence: d.evidence,
        // Shown as a percentage: 0.0–1.0 rounds into 0–100.
        confidence: Some((d.confidence.clamp(0.0, 1.0) * 100.0).round() as u32),
        commit: Some(found.commit_sha.chars().take(12).collect()),
        error: None,
    };
    Ok(page.into_response())
}

/// The API's request for the corrected form: blank commands are unset, except a server's start
/// command and a site's output directory, which detection fills when left blank.
fn create_request(form: &ProjectForm) -> Value {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let mut build = Map::new();
    build.insert("installCommand".into(), json!(text(&form.install)));
    build.insert("buildCommand".into(), json!(text(&form.build)));
    if let Some(output) = text(&form.output) {
        build.insert("outputDirectory".into(), json!(output));
    }
    let mut config = Map::new();
    config.insert("build".into(), Value::Object(build));
    if let Some(start) = text(&form.start).filter(|_| matches!(form.kind.as_str(), "node" | "python")) {
        config.insert("runtime".into(), json!({ "startCommand": start }));
    }
    let mut body = Map::new();
    body.insert("name".into(), json!(form.name.trim()));
    body.insert("type".into(), json!(form.kind));
    body.insert("repositoryConnectionId".into(), json!(form.connection));
    if let Some(root) = text(&form.root) {
        body.insert("rootDirectory".into(), json!(root));
    }
    if let Some(branch) = text(&form.branch) {
        body.insert("productionBranch".into(), json!(branch));
    }
    body.insert("config".into(), Value::Object(config));
    Value::Object(body)
}

/// `POST /app/<tenant>/new`: the project, then its page.
pub async fn create(
    visitor: Visitor,
    Ids(tenant): Ids<String>,
    form: Result<axum::Form<ProjectForm>, FormRejection>,
) -> Shows {
    let form = super::form(form)?;
    visitor.check(form.csrf.as_deref())?;
    let path = format!("/tenants/{tenant}/projects");
    match visitor.call.post::<_, ProjectView>(&path, &create_request(&form)).await {
        Ok(answer) => Ok(Redirect::to(&format!("/app/{tenant}/projects/{}", answer.body.id)).into_response()),
        Err(r) if r.status.is_client_error() && r.status.as_u16() != 401 => {
            let page = DetectPage {
                chrome: visitor.chrome(&tenant),
                csrf: visitor.csrf(),
                tenant,
                types: TYPES,
                form,
                framework: None,
                evidence: Vec::new(),
                confidence: None,
                commit: None,
                error: Some(r.message),
            };
            Ok((r.status, page).into_response())
        }
        Err(r) => Err(visitor.framed(&tenant, r.into())),
    }
}
