//! Parsing of account fields shared by signup and admin user creation.

use crate::error::{ApiError, ApiResult};
use shipyard_core::ExposeSecret;
use shipyard_core::{Email, Password, PasswordHash};

/// The `email` field, parsed.
pub fn email(raw: &str) -> ApiResult<Email> {
    Email::parse(raw).map_err(|e| ApiError::bad_request(format!("field `email`: {e}")))
}

/// The `password` field, checked against the length rules.
pub fn password(raw: &shipyard_api_types::Secret) -> ApiResult<Password> {
    Password::parse(raw.expose_secret().to_owned()).map_err(|e| ApiError::bad_request(format!("field `password`: {e}")))
}

/// The optional `name` field, defaulting to the email's local part.
pub fn name_or_default(name: Option<&str>, email: &Email) -> ApiResult<String> {
    match name {
        Some(name) => super::views::display_name(name, "name"),
        None => Ok(email.local_part().to_owned()),
    }
}

/// Hashes a password on the hashing thread.
pub async fn hash(password: Password) -> ApiResult<PasswordHash> {
    super::hashing::on_hashing_thread(move || password.hash()).await
}
