//! Field rules for project configuration. Each failure names the field.

use crate::error::{ApiError, ApiResult};

/// A shell command: not blank, no NUL, at most 4096 characters.
pub fn command(field: &str, value: String) -> ApiResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.len() > 4096 || trimmed.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "field `{field}` must be a non-empty command of at most 4096 characters (use null to unset it)"
        )));
    }
    Ok(trimmed.to_owned())
}

/// A version or range such as `20`, `>=18 <21`, `3.11.7`, `^3.12`.
pub fn version(field: &str, value: String) -> ApiResult<String> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || " .^~<>=*|-+".contains(c));
    if !ok {
        return Err(ApiError::bad_request(format!(
            "field `{field}`: `{v}` is not a version or version range"
        )));
    }
    Ok(v.to_owned())
}

/// A directory inside the repository.
pub fn directory(field: &str, value: &str) -> ApiResult<String> {
    shipyard_core::rel_path::relative_dir(value).map_err(|e| ApiError::bad_request(format!("field `{field}`: {e}")))
}

/// A port an unprivileged process can listen on.
pub fn port(value: u16) -> ApiResult<u16> {
    if value < 1024 {
        return Err(ApiError::bad_request(
            "field `port` must be between 1024 and 65535 (apps run unprivileged)",
        ));
    }
    Ok(value)
}

/// A number within bounds.
pub fn within(field: &str, value: u32, min: u32, max: u32) -> ApiResult<u32> {
    if !(min..=max).contains(&value) {
        return Err(ApiError::bad_request(format!(
            "field `{field}` must be between {min} and {max}"
        )));
    }
    Ok(value)
}

/// A path the health check requests.
pub fn health_path(value: String) -> ApiResult<String> {
    let ok =
        value.starts_with('/') && value.len() <= 1024 && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(ApiError::bad_request(
            "field `healthCheckPath` must be a path starting with `/`, without spaces",
        ));
    }
    Ok(value)
}
