//! The login kept between commands: the server and a token, in the user's config directory,
//! readable by the user alone.

use super::failure::Failure;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

/// What `login` stores (no `Debug`: it holds the token).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Stored {
    /// The server's base URL.
    pub server: String,
    /// The API token.
    pub token: String,
    /// The token's id, when `login --email` made it (so `logout` revokes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    /// Who signed in to make it (`logout` signs in as them again to revoke it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `$SHIPYARD_CONFIG_DIR`, else `$XDG_CONFIG_HOME/shipyard`, else `~/.config/shipyard`.
fn directory() -> Result<PathBuf, Failure> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("SHIPYARD_CONFIG_DIR")
        .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("shipyard")))
        .or_else(|| var("HOME").map(|d| d.join(".config").join("shipyard")))
        .ok_or_else(|| Failure::Usage("no config directory: set HOME or SHIPYARD_CONFIG_DIR".into()))
}

fn file() -> Result<PathBuf, Failure> {
    Ok(directory()?.join("login.json"))
}

/// The stored login, if any.
pub fn load() -> Result<Option<Stored>, Failure> {
    let path = file()?;
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Failure::Other(format!(
                "{} is not a login this client wrote ({e}); run `shipyard login` again",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::Other(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Stores `login` (mode 0600, written beside and renamed over, so a crash leaves the old one).
pub fn save(login: &Stored) -> Result<PathBuf, Failure> {
    let dir = directory()?;
    let fail = |what: &str, e: std::io::Error| Failure::Other(format!("cannot {what} {}: {e}", dir.display()));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| fail("create", e))?;
    let path = dir.join("login.json");
    let partial = dir.join(format!(".login.json.{}", std::process::id()));
    let body = serde_json::to_vec_pretty(login).map_err(|e| Failure::Other(e.to_string()))?;
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .and_then(|mut f| f.write_all(&body).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&partial, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(fail("write the login in", e));
    }
    Ok(path)
}

/// Forgets the stored login; true if there was one.
pub fn forget() -> Result<bool, Failure> {
    let path = file()?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Failure::Other(format!("cannot remove {}: {e}", path.display()))),
    }
}

/// The server a command that signs in talks to: `--server` (or `SHIPYARD_URL`), else the
/// stored login's.
pub fn server(global: &super::args::Global, stored: Option<&Stored>) -> Result<String, Failure> {
    global
        .server
        .clone()
        .or_else(|| stored.map(|s| s.server.clone()))
        .map(|s| s.trim_end_matches('/').to_owned())
        .ok_or_else(|| Failure::Usage("name the server: --server URL (or SHIPYARD_URL)".into()))
}
