//! Why a client command failed, and the exit code CONTRACT.md gives each reason.

use shipyard_client::ClientError;
use thiserror::Error;

/// A client command's failure; `Display` is the one line printed on stderr.
#[derive(Debug, Error)]
pub enum Failure {
    /// The command line or the local setup is wrong (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The server refused the call; its own message is kept.
    #[error("{message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The server's `message`.
        message: String,
    },
    /// The server could not be reached (exit 5).
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    /// The deployment failed (exit 1).
    #[error("deployment {reference} failed: {error}")]
    DeployFailed {
        /// `DEP-0001`
        reference: String,
        /// The deployment's `error`.
        error: String,
    },
    /// The deployment was canceled (exit 3).
    #[error("deployment {0} was canceled")]
    Canceled(String),
    /// Ctrl-C while waiting: the same as giving up (exit 6); the deployment goes on.
    #[error("stopped waiting; {0} goes on (`shipyard logs {0} --follow` to watch it)")]
    Interrupted(String),
    /// `--timeout` passed first (exit 6).
    #[error("gave up waiting after {0}")]
    GaveUp(String),
    /// `logout` could not revoke the token `login --email` made, so it kept the login (the
    /// exit code of `why`).
    #[error(
        "not logged out: the token {prefix}… this login made was not revoked ({why}); try again, \
         or `shipyard logout --keep-token` to forget it here and revoke it in the console"
    )]
    Revocation {
        /// The token's first characters, as the console's token list shows them.
        prefix: String,
        /// Why the revocation failed.
        why: Box<Failure>,
    },
    /// `run`'s command exited with this code (the CLI's own).
    #[error("the command exited with code {0}")]
    CommandExit(i32),
    /// Anything else that went wrong on this machine or in an answer (exit 1).
    #[error("{0}")]
    Other(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Api { status: 401 | 403, .. } => 4,
            Self::Api { status, .. } if *status >= 500 => 5,
            Self::Unreachable(_) => 5,
            Self::Canceled(_) => 3,
            Self::GaveUp(_) | Self::Interrupted(_) => 6,
            Self::Revocation { why, .. } => why.exit_code(),
            Self::CommandExit(code) => u8::try_from(*code).ok().filter(|c| *c != 0).unwrap_or(1),
            Self::Api { .. } | Self::DeployFailed { .. } | Self::Other(_) => 1,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Http(e) => Self::Unreachable(chain(&e)),
            ClientError::Api { status, message } => Self::Api { status, message },
            ClientError::Unexpected(what) => Self::Other(what),
        }
    }
}

/// An error with its causes, `a: b: c` (reqwest's own message says only "error sending request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        let api = |status| Failure::Api {
            status,
            message: String::new(),
        };
        assert_eq!(api(401).exit_code(), 4);
        assert_eq!(api(403).exit_code(), 4);
        assert_eq!(api(502).exit_code(), 5);
        assert_eq!(api(404).exit_code(), 1);
        assert_eq!(Failure::Usage(String::new()).exit_code(), 2);
        assert_eq!(Failure::Canceled(String::new()).exit_code(), 3);
        assert_eq!(Failure::GaveUp(String::new()).exit_code(), 6);
        assert_eq!(Failure::Unreachable(String::new()).exit_code(), 5);
    }
}
