//! Why a user-supplied value was refused; the API maps these to 400 with the field named.

use thiserror::Error;

/// A value that failed to parse into a domain type.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DomainError {
    /// An id without the expected prefix or with a malformed body.
    #[error("`{value}` is not a valid {kind} id")]
    InvalidId {
        /// The kind of id expected (`user`, `tenant`, …).
        kind: &'static str,
        /// What was given.
        value: String,
    },
    /// A slug that breaks the slug rules.
    #[error("slug {0}")]
    InvalidSlug(&'static str),
    /// An email address that cannot be one.
    #[error("`{0}` is not a valid email address")]
    InvalidEmail(String),
    /// A password that is too short or too long.
    #[error("password {0}")]
    WeakPassword(&'static str),
    /// A git remote URL that cannot be used.
    #[error("git URL {0}")]
    InvalidGitUrl(String),
    /// A path that is not a safe relative directory.
    #[error("path {0}")]
    InvalidPath(String),
    /// A name that cannot be an environment variable, or one the platform reserves.
    #[error("{0}")]
    InvalidEnvVarName(String),
    /// A live host label (`<project>-<env>`) longer than one DNS label.
    #[error("the live host label `{label}` would be {len} characters; DNS allows 63: choose shorter names")]
    HostLabelTooLong {
        /// The label.
        label: String,
        /// Its length.
        len: usize,
    },
    /// A stored password hash that does not parse.
    #[error("stored password hash is malformed")]
    MalformedHash,
}
