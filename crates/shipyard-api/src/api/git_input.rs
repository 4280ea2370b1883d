//! Checks of git-related input: branch names and the credentials a connection carries.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use shipyard_build::{GitAuth, GitError};
use shipyard_store::Connection;
use shipyard_store::secrets::open_connection_credential;

/// A branch name git would accept (`git check-ref-format --branch`, simplified).
pub fn branch(field: &str, raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    let bad = name.is_empty()
        || name.len() > 255
        || name.starts_with(['-', '/', '.'])
        || name.ends_with(['/', '.'])
        || name.ends_with(".lock")
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad {
        return Err(ApiError::bad_request(format!(
            "field `{field}`: `{name}` is not a valid branch name"
        )));
    }
    Ok(name.to_owned())
}

/// The credential of a stored connection, unsealed for one git command.
pub fn open_auth(state: &AppState, conn: &Connection) -> ApiResult<GitAuth> {
    Ok(GitAuth::from_stored(
        &conn.auth_kind,
        open_connection_credential(&state.secret_box, conn)?,
    ))
}

/// A git failure as the user should see it: what git said (never a credential) as a 422.
pub fn git_error(field: &str, err: GitError) -> ApiError {
    match err {
        GitError::NotInstalled | GitError::Io(_) => ApiError::internal(&err),
        GitError::UnknownBranch(_) | GitError::RootNotFound(_) => {
            ApiError::unprocessable(format!("field `{field}`: {err}"))
        }
        GitError::Remote(_) | GitError::Timeout(_) | GitError::TooMuchOutput(_) => {
            ApiError::unprocessable(format!("the repository cannot be read: {err}"))
        }
    }
}
