//! `/`, sign in, sign up and sign out.

use crate::auth::{Transport, check_origin};
use crate::console::Console;
use crate::console::call::{Caller, Refusal};
use crate::console::csrf;
use crate::console::page::{Chrome, Shown, Shows};
use crate::console::visitor::Visitor;
use crate::middleware::no_route;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use shipyard_api_types::account::MeResponse;

/// `GET /`: a browser gets the console; any other client the API's answer of before.
pub async fn home(transport: Transport, request: Request) -> Response {
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !wants_html {
        return no_route(request).await.into_response();
    }
    let signed_in = transport.session_value(request.headers()).is_some();
    Redirect::to(if signed_in { "/app" } else { "/login" }).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "signup.html")]
struct SignupPage {
    chrome: Chrome,
    csrf: String,
    name: String,
    email: String,
    workspace: String,
    error: Option<String>,
}

/// The pre-sign-in form token, and the cookie to set when the browser has none yet.
fn pre_token(transport: Transport, headers: &HeaderMap) -> (String, Option<String>) {
    match csrf::pre_secret(transport, headers) {
        Some(secret) => (csrf::token_for(&secret), None),
        None => {
            let (secret, cookie) = csrf::new_pre_secret(transport);
            (csrf::token_for(&secret), Some(cookie))
        }
    }
}

fn with_cookie(page: impl IntoResponse, status: StatusCode, cookie: Option<String>) -> Response {
    let mut response = (status, page).into_response();
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /login`
pub async fn login_page(transport: Transport, headers: HeaderMap) -> Response {
    let (csrf, cookie) = pre_token(transport, &headers);
    let page = LoginPage {
        chrome: Chrome::anonymous(),
        csrf,
        email: String::new(),
        error: None,
    };
    with_cookie(page, StatusCode::OK, cookie)
}

/// `GET /signup`
pub async fn signup_page(transport: Transport, headers: HeaderMap) -> Response {
    let (csrf, cookie) = pre_token(transport, &headers);
    let page = SignupPage {
        chrome: Chrome::anonymous(),
        csrf,
        name: String::new(),
        email: String::new(),
        workspace: String::new(),
        error: None,
    };
    with_cookie(page, StatusCode::OK, cookie)
}

/// A sign-in or sign-up form: from this site's page (Origin), with the token of its cookie.
fn guard(console: &Console, parts: &Parts, given: Option<&str>) -> Result<(), Shown> {
    check_origin(parts, &console.app.settings.platform_host)?;
    let transport = Transport::of(parts);
    match csrf::pre_secret(transport, &parts.headers) {
        Some(secret) if given.is_some_and(|g| csrf::matches(&secret, g)) => Ok(()),
        _ => Err(Shown::forged()),
    }
}

/// After a session began: on to the console, with the API's cookie.
fn signed_in(cookies: Vec<HeaderValue>) -> Response {
    let mut response = Redirect::to("/app").into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`: the API's login, then the dashboard.
pub async fn login(
    State(console): State<Console>,
    parts: Parts,
    form: Result<axum::Form<LoginForm>, FormRejection>,
) -> Shows {
    let form = super::form(form)?;
    guard(&console, &parts, form.csrf.as_deref())?;
    let call = Caller::new(console.api.clone(), &parts);
    let body = json!({ "email": form.email, "password": form.password });
    match call.post::<_, MeResponse>("/auth/login", &body).await {
        Ok(answer) => Ok(signed_in(answer.cookies)),
        Err(Refusal { status, message }) => {
            let page = LoginPage {
                chrome: Chrome::anonymous(),
                csrf: form.csrf.unwrap_or_default(),
                email: form.email,
                error: Some(message),
            };
            Ok((status, page).into_response())
        }
    }
}

/// The sign-up form.
#[derive(Debug, Deserialize)]
pub struct SignupForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    workspace: String,
}

/// `POST /signup`: the API's signup, then the dashboard.
pub async fn signup(
    State(console): State<Console>,
    parts: Parts,
    form: Result<axum::Form<SignupForm>, FormRejection>,
) -> Shows {
    let form = super::form(form)?;
    guard(&console, &parts, form.csrf.as_deref())?;
    let call = Caller::new(console.api.clone(), &parts);
    let optional = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let body = json!({
        "email": form.email,
        "password": form.password,
        "name": optional(&form.name),
        "workspaceName": optional(&form.workspace),
    });
    match call.post::<_, MeResponse>("/auth/signup", &body).await {
        Ok(answer) => Ok(signed_in(answer.cookies)),
        Err(Refusal { status, message }) => {
            let page = SignupPage {
                chrome: Chrome::anonymous(),
                csrf: form.csrf.unwrap_or_default(),
                name: form.name,
                email: form.email,
                workspace: form.workspace,
                error: Some(message),
            };
            Ok((status, page).into_response())
        }
    }
}

/// A form that carries only its token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    /// The session's form token.
    pub csrf: Option<String>,
}

/// `POST /app/logout`: the API's logout, then the sign-in page.
pub async fn logout(visitor: Visitor, form: Result<axum::Form<TokenForm>, FormRejection>) -> Shows {
    let form = super::form(form)?;
    visitor.check(form.csrf.as_deref())?;
    let answer = visitor.call.post::<_, ()>("/auth/logout", &json!({})).await?;
    let mut response = Redirect::to("/login").into_response();
    for cookie in answer.cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
