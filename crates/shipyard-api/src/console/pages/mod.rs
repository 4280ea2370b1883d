//! One module per page family of the console.

pub mod auth;
pub mod dashboard;
pub mod deployments;
pub mod new_project;
pub mod projects;
pub mod releases;

/// Reads a urlencoded form, or says why it could not be read.
pub(super) fn form<T: serde::de::DeserializeOwned>(
    form: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
) -> Result<T, super::page::Shown> {
    form.map(|axum::Form(f)| f)
        .map_err(|e| super::page::Shown::bad_form(e.body_text()))
}
