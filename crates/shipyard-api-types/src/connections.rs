//! Repository connections.

use crate::Secret;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A connection as the API shows it: never its credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    /// `rc_…`
    pub id: String,
    /// The workspace.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// Always `git`.
    #[schema(value_type = String)]
    pub provider: Provider,
    /// Remote URL.
    pub url: String,
    /// Branch new projects deploy by default.
    pub default_branch: String,
    /// `none`, `token` or `ssh-key`.
    pub auth_type: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// HMAC-SHA256 key for push webhooks; present only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

/// The only provider so far.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Any git remote.
    Git,
}

/// Credentials for the remote.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthRequest {
    /// An access token, used as the HTTPS password.
    Token {
        /// The token.
        #[schema(value_type = String)]
        token: Secret,
    },
    /// An OpenSSH private key.
    SshKey {
        /// The key, PEM/OpenSSH text.
        #[serde(rename = "privateKey")]
        #[schema(value_type = String)]
        private_key: Secret,
    },
}

/// `POST /tenants/<t>/repository-connections`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateConnectionRequest {
    /// Display name (default: the repository's name).
    #[schema(
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: Option<String>,
    /// `git`.
    pub provider: Provider,
    /// `https://…`, `ssh://…`, `user@host:path` or `file:///…`.
    pub url: String,
    /// Default branch (default: the remote's HEAD).
    #[schema(
        max_length = 255,
        pattern = r"^[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*(/[A-Za-z0-9_+=,][A-Za-z0-9_+=,-]*)*$"
    )]
    pub default_branch: Option<String>,
    /// Credentials, if the repository is private.
    pub auth: Option<AuthRequest>,
}
