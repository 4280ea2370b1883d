//! Git remote URLs as users give them. Credentials never belong in a URL: they travel in a
//! connection's encrypted `auth` and reach git through its askpass or ssh hooks.

use crate::DomainError;

/// How a remote is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitTransport {
    /// `https://` or `http://`
    Http,
    /// `ssh://` or scp-like `user@host:path`
    Ssh,
    /// `file:///absolute/path`
    File,
}

/// A validated git remote URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUrl {
    url: String,
    transport: GitTransport,
}

fn invalid(reason: &str) -> DomainError {
    DomainError::InvalidGitUrl(reason.to_owned())
}

impl GitUrl {
    /// Parses a remote URL; refuses unknown schemes, embedded passwords and option-like text.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let url = raw.trim();
        if url.is_empty() || url.len() > 2048 {
            return Err(invalid("must be 1 to 2048 characters"));
        }
        if url.starts_with('-') || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(invalid(
                "must not start with `-` or contain spaces or control characters",
            ));
        }
        let transport = if let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) {
            let authority = rest.split('/').next().unwrap_or_default();
            if authority.contains('@') {
                return Err(invalid(
                    "must not carry credentials; send them as `auth: { type: \"token\", token }` instead",
                ));
            }
            if authority.is_empty() || !rest.contains('/') {
                return Err(invalid("needs a host and a repository path"));
            }
            GitTransport::Http
        } else if let Some(rest) = url.strip_prefix("ssh://") {
            let authority = rest.split('/').next().unwrap_or_default();
            if authority.split('@').next_back().unwrap_or_default().is_empty() || !rest.contains('/') {
                return Err(invalid("needs a host and a repository path"));
            }
            if authority.split('@').next().is_some_and(|user| user.contains(':')) && authority.contains('@') {
                return Err(invalid(
                    "must not carry a password; use `auth: { type: \"ssh-key\", privateKey }`",
                ));
            }
            GitTransport::Ssh
        } else if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(invalid("file URLs need an absolute path: file:///path/to/repo"));
            }
            GitTransport::File
        } else if let Some((user_host, path)) = url.split_once(':')
            && user_host.contains('@')
            && !user_host.contains('/')
            && !path.is_empty()
            && !path.starts_with("//")
        {
            GitTransport::Ssh
        } else {
            return Err(invalid("must be https://…, ssh://…, user@host:path or file:///…"));
        };
        Ok(Self {
            url: url.to_owned(),
            transport,
        })
    }

    /// Wraps a URL read back from the store.
    pub fn from_trusted(url: String) -> Self {
        let transport = if url.starts_with("http") {
            GitTransport::Http
        } else if url.starts_with("file://") {
            GitTransport::File
        } else {
            GitTransport::Ssh
        };
        Self { url, transport }
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// How it is reached.
    pub fn transport(&self) -> GitTransport {
        self.transport
    }

    /// The local path of a `file://` URL.
    pub fn file_path(&self) -> Option<&str> {
        self.url.strip_prefix("file://")
    }

    /// A short name for the repository: the last path segment without `.git`.
    pub fn repo_name(&self) -> String {
        let tail = self
            .url
            .trim_end_matches('/')
            .rsplit(['/', ':'])
            .next()
            .unwrap_or_default();
        tail.trim_end_matches(".git").to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_usual_forms() {
        for (url, transport, name) in [
            ("https://github.com/acme/web.git", GitTransport::Http, "web"),
            ("http://127.0.0.1:9000/repos/api", GitTransport::Http, "api"),
            ("ssh://git@example.com:2222/acme/web.git", GitTransport::Ssh, "web"),
            ("git@github.com:acme/site.git", GitTransport::Ssh, "site"),
            ("file:///srv/git/app.git", GitTransport::File, "app"),
        ] {
            let parsed = GitUrl::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!((parsed.transport(), parsed.repo_name().as_str()), (transport, name));
        }
    }

    #[test]
    fn refuses_credentials_options_and_junk() {
        for url in [
            "https://user:secret@github.com/acme/web.git",
            "https://token@github.com/acme/web.git",
            "ssh://git:pw@example.com/acme/web.git",
            "--upload-pack=touch /tmp/x",
            "ftp://example.com/repo",
            "file://relative/path",
            "https://github.com",
            "not a url",
            "",
        ] {
            assert!(GitUrl::parse(url).is_err(), "{url:?} should be refused");
        }
    }
}
