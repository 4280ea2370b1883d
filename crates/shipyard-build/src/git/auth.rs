//! Credentials for one git command: a token for HTTPS through `GIT_ASKPASS`, or an ssh key in
//! a private scratch file, with host keys pinned per connection.

use super::GitError;
use shipyard_core::Redactor;
use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// How to authenticate to a remote.
#[derive(Clone, Default)]
pub enum GitAuth {
    /// Public repository or local path.
    #[default]
    None,
    /// HTTPS token (used as the password).
    Token(String),
    /// OpenSSH private key (PEM/OpenSSH format).
    SshKey(String),
}

impl fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GitAuth::None => "GitAuth::None",
            GitAuth::Token(_) => "GitAuth::Token(****)",
            GitAuth::SshKey(_) => "GitAuth::SshKey(****)",
        })
    }
}

impl GitAuth {
    /// The credential of a stored connection: its kind (`none`, `token`, `ssh-key`) and
    /// its unsealed secret.
    pub fn from_stored(kind: &str, secret: Option<String>) -> Self {
        match (secret, kind) {
            (None, _) => GitAuth::None,
            (Some(key), "ssh-key") => GitAuth::SshKey(key),
            (Some(token), _) => GitAuth::Token(token),
        }
    }

    /// The name of the kind, as the API shows it.
    pub fn kind(&self) -> &'static str {
        match self {
            GitAuth::None => "none",
            GitAuth::Token(_) => "token",
            GitAuth::SshKey(_) => "ssh-key",
        }
    }

    /// Removes the credential (each of its lines, and its encoded forms) from text meant
    /// for people.
    pub fn redact(&self, text: &str) -> String {
        match self {
            GitAuth::None => text.to_owned(),
            GitAuth::Token(secret) | GitAuth::SshKey(secret) => {
                Redactor::new([secret.as_str()]).redact(text).into_owned()
            }
        }
    }
}

/// Writes the askpass script once: it answers git's username prompt with a fixed name and the
/// password prompt with the token from this command's environment.
pub(super) fn write_askpass(state_dir: &Path) -> Result<PathBuf, GitError> {
    let path = state_dir.join("askpass.sh");
    let script = "#!/bin/sh\ncase \"$1\" in\n  Username*) printf '%s\\n' \"${SHIPYARD_GIT_USERNAME:-x-access-token}\" ;;\n  *) printf '%s\\n' \"$SHIPYARD_GIT_PASSWORD\" ;;\nesac\n";
    fs::write(&path, script)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o700))?;
    Ok(path)
}

/// The environment of one command; scratch files vanish when it drops.
pub(super) struct Session {
    env: Vec<(&'static str, String)>,
    _scratch: Option<tempfile::TempDir>,
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

impl Session {
    pub(super) fn prepare(
        auth: &GitAuth,
        scratch: &Path,
        askpass: &Path,
        known_hosts: Option<&Path>,
    ) -> Result<Self, GitError> {
        let mut env = vec![("GIT_ASKPASS", askpass.display().to_string())];
        let mut ssh =
            String::from("ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new");
        match known_hosts {
            Some(path) => ssh.push_str(&format!(" -o UserKnownHostsFile={}", quote(path))),
            None => ssh.push_str(" -o UserKnownHostsFile=/dev/null"),
        }
        let mut dir = None;
        match auth {
            GitAuth::None => {}
            GitAuth::Token(token) => env.push(("SHIPYARD_GIT_PASSWORD", token.clone())),
            GitAuth::SshKey(key) => {
                let tmp = tempfile::Builder::new().prefix("ssh-").tempdir_in(scratch)?;
                let key_path = tmp.path().join("key");
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&key_path)?;
                file.write_all(key.trim_end().as_bytes())?;
                file.write_all(b"\n")?;
                ssh.push_str(&format!(" -o IdentitiesOnly=yes -i {}", quote(&key_path)));
                dir = Some(tmp);
            }
        }
        env.push(("GIT_SSH_COMMAND", ssh));
        Ok(Self { env, _scratch: dir })
    }

    pub(super) fn apply(&self, cmd: &mut tokio::process::Command) {
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
    }
}
