//! The platform's copies of connected repositories: one directory per connection under
//! `<data>/repos/<connection>/` holding its pinned ssh host keys and a bare mirror. Fetches of
//! one connection are serialised, since git locks the mirror.

use crate::detect::FileTree;
use crate::git::{Git, GitAuth, GitError, RemoteRefs};
use shipyard_core::{ConnectionId, GitUrl};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A commit of a branch and the files detection reads from it.
#[derive(Debug)]
pub struct Snapshot {
    /// The commit the branch pointed at.
    pub commit_sha: String,
    /// Its files under the requested root directory.
    pub tree: FileTree,
}

/// Mirrors of connected repositories.
#[derive(Debug)]
pub struct Repositories {
    git: Git,
    root: PathBuf,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Repositories {
    /// Keeps mirrors under `root` and git's own files in `git_home`.
    pub fn new(root: PathBuf, git_home: &Path) -> Result<Self, GitError> {
        std::fs::create_dir_all(&root)?;
        Ok(Self {
            git: Git::new(git_home)?,
            root,
            locks: Mutex::new(HashMap::new()),
        })
    }

    fn dir(&self, id: &ConnectionId) -> PathBuf {
        self.root.join(id.as_str())
    }

    fn known_hosts(&self, id: &ConnectionId) -> Result<PathBuf, GitError> {
        let dir = self.dir(id);
        std::fs::create_dir_all(&dir)?;
        Ok(dir.join("known_hosts"))
    }

    fn lock(&self, id: &ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        locks.entry(id.as_str().to_owned()).or_default().clone()
    }

    /// Lists the remote's branches: proves the URL and credentials work. The first ssh
    /// contact pins the host key for this connection.
    pub async fn list_remote(&self, id: &ConnectionId, url: &GitUrl, auth: &GitAuth) -> Result<RemoteRefs, GitError> {
        let known_hosts = self.known_hosts(id)?;
        self.git.ls_remote(url, auth, Some(&known_hosts)).await
    }

    /// Fetches the mirror and reads `branch` under `root`.
    pub async fn snapshot(
        &self,
        id: &ConnectionId,
        url: &GitUrl,
        auth: &GitAuth,
        branch: &str,
        root: &str,
    ) -> Result<Snapshot, GitError> {
        let lock = self.lock(id);
        let _guard = lock.lock().await;
        let known_hosts = self.known_hosts(id)?;
        let mirror = self.dir(id).join("mirror.git");
        self.git.fetch(url, auth, Some(&known_hosts), &mirror).await?;
        let commit_sha = self.git.branch_commit(&mirror, branch).await?;
        let tree = self.git.read_tree(&mirror, &commit_sha, root).await?;
        Ok(Snapshot { commit_sha, tree })
    }

    /// Fetches the mirror and pins the commit to build: `fixed` when given (a retry builds the
    /// same commit even after the branch moved), else the tip of `branch`. Returns the commit,
    /// its subject and the mirror's path.
    pub async fn fetch_commit(
        &self,
        id: &ConnectionId,
        url: &GitUrl,
        auth: &GitAuth,
        branch: &str,
        fixed: Option<&str>,
    ) -> Result<(String, String, PathBuf), GitError> {
        let lock = self.lock(id);
        let _guard = lock.lock().await;
        let known_hosts = self.known_hosts(id)?;
        let mirror = self.dir(id).join("mirror.git");
        self.git.fetch(url, auth, Some(&known_hosts), &mirror).await?;
        let commit = match fixed {
            Some(sha) if self.git.has_commit(&mirror, sha).await? => sha.to_owned(),
            Some(sha) => return Err(GitError::Remote(format!("commit {sha} is no longer in the repository"))),
            None => self.git.branch_commit(&mirror, branch).await?,
        };
        let subject = self.git.commit_subject(&mirror, &commit).await?;
        Ok((commit, subject, mirror))
    }

    /// Writes the tree of `commit` from the connection's mirror into `dest`.
    pub async fn export(&self, mirror: &Path, commit: &str, dest: &Path) -> Result<(), GitError> {
        self.git.export(mirror, commit, dest).await
    }

    /// Removes everything kept for a deleted connection.
    pub fn forget(&self, id: &ConnectionId) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.dir(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
