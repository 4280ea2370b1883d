//! What every console page shares: the frame around it (assets, the visitor, the workspace
//! switcher), the headers that make it safe to show a tenant's text, and how a refusal is shown.

use super::assets::{ASSETS, Assets};
use super::call::Refusal;
use crate::error::ApiError;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// The policy every page is sent with: nothing inline, nothing from elsewhere, never framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the console's security headers to every answer (assets keep their own caching).
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// A workspace in the switcher.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// `ten_…`
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether the page shows it.
    pub current: bool,
}

/// The signed-in visitor as the frame shows them.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Their name.
    pub name: String,
    /// Their workspaces.
    pub workspaces: Vec<Workspace>,
    /// The form token of their session.
    pub csrf: String,
}

/// The frame of a page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Stylesheet and script.
    pub assets: &'static Assets,
    /// Who is signed in (None on the sign-in pages).
    pub signed: Option<Signed>,
}

impl Chrome {
    /// The frame of a page nobody is signed in to.
    pub fn anonymous() -> Self {
        Self {
            assets: &ASSETS,
            signed: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    reason: String,
    message: String,
}

/// What a console handler answers instead of its page.
#[derive(Debug)]
pub enum Shown {
    /// Go elsewhere (`303 See Other`).
    Redirect(String),
    /// A page that says what went wrong, with its status.
    Error(StatusCode, String, Option<Chrome>),
}

impl Shown {
    /// To the sign-in page.
    pub fn to_login() -> Self {
        Self::Redirect("/login".to_owned())
    }

    /// 403 for a form whose token is missing or wrong.
    pub fn forged() -> Self {
        Self::Error(
            StatusCode::FORBIDDEN,
            "the form's security token is missing or out of date; reload the page and try again".to_owned(),
            None,
        )
    }

    /// 400 for a form that could not be read.
    pub fn bad_form(why: impl std::fmt::Display) -> Self {
        Self::Error(
            StatusCode::BAD_REQUEST,
            format!("the form could not be read: {why}"),
            None,
        )
    }
}

impl From<Refusal> for Shown {
    fn from(r: Refusal) -> Self {
        if r.status == StatusCode::UNAUTHORIZED {
            return Self::to_login();
        }
        Self::Error(r.status, r.message, None)
    }
}

impl From<ApiError> for Shown {
    fn from(e: ApiError) -> Self {
        if e.status() == StatusCode::UNAUTHORIZED {
            return Self::to_login();
        }
        Self::Error(e.status(), e.message().to_owned(), None)
    }
}

impl From<shipyard_store::StoreError> for Shown {
    fn from(e: shipyard_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for Shown {
    fn into_response(self) -> Response {
        match self {
            Self::Redirect(to) => Redirect::to(&to).into_response(),
            Self::Error(status, message, chrome) => {
                let page = ErrorPage {
                    chrome: chrome.unwrap_or_else(Chrome::anonymous),
                    status: status.as_u16(),
                    reason: status.canonical_reason().unwrap_or("Error").to_owned(),
                    message,
                };
                (status, page).into_response()
            }
        }
    }
}

/// A console handler's answer.
pub type Shows = Result<Response, Shown>;
